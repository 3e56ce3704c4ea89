package main

import (
	"context"
	"net"
	"strings"
	"testing"
)

func TestClient(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Write([]byte("Thank you for connecting\n"))
			c.Close()
		}
	}()
	var out strings.Builder
	if err := run(context.Background(), []string{"-addr", l.Addr().String()}, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "Thank you for connecting\n" {
		t.Errorf("printed %q", out.String())
	}
	// Nothing listens: the error says so.
	l.Close()
	if err := run(context.Background(), []string{"-addr", l.Addr().String()}, &out); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("to a closed port: %v", err)
	}
}
