package main

import (
	"context"
	"strings"
	"testing"
)

func TestHostname(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"localhost"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "this host is ") || !strings.Contains(out.String(), "localhost has [127.0.0.1") {
		t.Errorf("printed %q", out.String())
	}
	if err := run(context.Background(), []string{"no-such-host.invalid"}, &out); err == nil {
		t.Error("a name under .invalid resolved")
	}
}
