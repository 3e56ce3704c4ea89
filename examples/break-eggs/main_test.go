package main

import (
	"context"
	"strings"
	"testing"
)

func TestBreakEggs(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`bad port:        invalid port 66000 in "tcp://127.0.0.1:66000": ports are 0-65535`,
		"unknown host:    connect tcp://no-such-host.invalid:80: cannot resolve no-such-host.invalid",
		"closed port:     refused=true",
		"silent peer:     timeout=true",
		"peer gone:       reset=true",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
