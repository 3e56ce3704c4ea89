package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestReceiver(t *testing.T) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(context.Background(), []string{"-addr", "127.0.0.1:0", "-n", "2"}, pw); pw.Close() }()
	lines := bufio.NewScanner(pr)
	lines.Scan()
	addr := strings.TrimPrefix(lines.Text(), "receiving on ")
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, m := range []string{"one", "two"} {
		c.Write([]byte(m))
		lines.Scan()
		if !strings.HasSuffix(lines.Text(), `: "`+m+`"`) {
			t.Errorf("printed %q", lines.Text())
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 100)
		if n, err := c.Read(buf); err != nil || string(buf[:n]) != "got it\n" {
			t.Errorf("reply %q, %v", buf[:n], err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
