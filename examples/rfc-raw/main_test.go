package main

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/netkit-dev/netkit/examples/internal"
)

func TestDownload(t *testing.T) {
	mirror := internal.Mirror(t)
	var out, wire strings.Builder
	if err := run(context.Background(), []string{"-mirror", mirror, "1149"}, &out, &wire); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(wire.String(), "> GET /rfc/rfc1149.txt HTTP/1.1\n") || !strings.Contains(wire.String(), "< HTTP/1.1 200 OK\n") {
		t.Errorf("the wire trace lacks the request or the status line:\n%s", wire.String())
	}
	if out.String() != internal.RFC1149 {
		t.Errorf("got %q", out.String())
	}
	if err := run(context.Background(), []string{"-mirror", mirror, "9999"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a missing RFC: %v", err)
	}
	if err := run(context.Background(), []string{"x"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("a bad number: %v", err)
	}
}
