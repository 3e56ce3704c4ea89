package accept_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/internal/accept"
	"github.com/netkit-dev/netkit/internal/testutil"
)

// Serve closes every open connection when the context ends, and returns
// only after the handlers have.
func TestServeStopsEverything(t *testing.T) {
	testutil.CheckLeaks(t)
	ln := testutil.Listen(t, "tcp")
	ctx, cancel := context.WithCancel(context.Background())
	handled := make(chan struct{}, 2)
	done := make(chan error, 1)
	go func() {
		done <- accept.Serve(ctx, ln, func(c net.Conn) {
			io.WriteString(c, "hi\n")
			io.Copy(io.Discard, c) // until the peer or Serve closes it
			handled <- struct{}{}
		})
	}()
	var conns []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		b := make([]byte, 3)
		if _, err := io.ReadFull(c, b); err != nil || string(b) != "hi\n" {
			t.Fatalf("greeting %q %v", b, err)
		}
		conns = append(conns, c)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after the context ended: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the context ended")
	}
	if len(handled) != 2 {
		t.Errorf("%d handlers had returned when Serve did, want 2", len(handled))
	}
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Error("a connection stayed open")
		}
	}
}
