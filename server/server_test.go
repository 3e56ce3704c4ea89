package server_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/server"
	"github.com/netkit-dev/netkit/server/servertest"
)

func goroutineEngine(cfg server.Config, h server.Handler) servertest.Engine {
	return &server.Server{Config: cfg, Handler: h}
}

func TestConformance(t *testing.T) {
	servertest.Run(t, goroutineEngine)
}

func TestPacketConformance(t *testing.T) {
	servertest.RunPacket(t)
}

// TestEvictIdle: when MaxConns are open, a new client gets in by closing
// the connection idle longest, not by waiting for it.
func TestEvictIdle(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &server.Server{
		Config: server.Config{MaxConns: 2, EvictIdle: 50 * time.Millisecond},
		Stream: server.StreamFunc(func(ctx context.Context, c net.Conn) { io.Copy(c, c) }),
	}
	go srv.Serve(context.Background(), l)
	t.Cleanup(func() { srv.Shutdown(context.Background()) }) // after the clients close
	dial := func() net.Conn {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(5 * time.Second))
		return c
	}
	stalled := dial() // says nothing: it will be the one idle longest
	busy := dial()
	time.Sleep(100 * time.Millisecond)
	busy.Write([]byte("x")) // active now
	buf := make([]byte, 1)
	if _, err := io.ReadFull(busy, buf); err != nil {
		t.Fatal(err)
	}
	newcomer := dial()
	newcomer.Write([]byte("y"))
	if _, err := io.ReadFull(newcomer, buf); err != nil || buf[0] != 'y' {
		t.Fatalf("the new client was not served: %v", err)
	}
	if _, err := stalled.Read(buf); err == nil {
		t.Error("the stalled connection is still open")
	}
	busy.Write([]byte("z"))
	if _, err := io.ReadFull(busy, buf); err != nil || buf[0] != 'z' {
		t.Errorf("the active connection was evicted: %v", err)
	}
}
