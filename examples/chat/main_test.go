package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/internal/testutil"
)

func TestChat(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &testutil.SyncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, out) }()
	var addr string
	for deadline := time.Now().Add(5 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if s, ok := strings.CutPrefix(out.String(), "chat room on "); ok {
			addr = strings.TrimSpace(strings.SplitN(s, "\n", 2)[0])
		}
	}
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(c)
		r.ReadString('\n') // welcome
		return c, r
	}
	ann, annR := dial()
	bob, bobR := dial()
	annR.ReadString('\n') // bob joined
	io.WriteString(bob, "/nick bob\n")
	bobR.ReadString('\n')
	annR.ReadString('\n')
	io.WriteString(bob, "hi ann\n")
	if line, _ := annR.ReadString('\n'); line != "<bob> hi ann\n" {
		t.Errorf("ann got %q", line)
	}
	ann.Close()
	bob.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "<bob> hi ann") {
		t.Errorf("the console missed the room: %q", out.String())
	}
}
