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
	var out strings.Builder
	if err := run(context.Background(), []string{"-mirror", mirror, "1149"}, &out, io.Discard); err != nil {
		t.Fatal(err)
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
