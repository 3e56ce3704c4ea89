package eventloop_test

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/server"
	"github.com/netkit-dev/netkit/server/eventloop"
	"github.com/netkit-dev/netkit/server/servertest"
)

func engine(cfg server.Config, h server.Handler) servertest.Engine {
	return &eventloop.Server{Config: cfg, Handler: h}
}

func TestConformance(t *testing.T) {
	servertest.Run(t, engine)
}

// TestConformanceOneLoop runs the suite with a single loop, where every
// connection shares one thread, and a tiny read budget, so that fairness
// and resumption are exercised on every read.
func TestConformanceOneLoop(t *testing.T) {
	servertest.Run(t, func(cfg server.Config, h server.Handler) servertest.Engine {
		return &eventloop.Server{Config: cfg, Handler: h, Loops: 1, ReadBudget: 4096}
	})
}

// addrRecorder echoes and records each connection's remote address.
type addrRecorder struct {
	server.Base
	addrs chan net.Addr
}

func (a addrRecorder) OnOpen(c server.Conn)         { a.addrs <- c.RemoteAddr() }
func (addrRecorder) OnData(c server.Conn, p []byte) { c.Write(p) }

// TestUnixAndAddresses serves a Unix socket and TCP over IPv4 and IPv6:
// all echo, and the remote address each connection reports is its
// client's.
func TestUnixAndAddresses(t *testing.T) {
	h := addrRecorder{addrs: make(chan net.Addr, 2)}
	s := &eventloop.Server{Handler: h, Loops: 1}
	path := filepath.Join(t.TempDir(), "echo.sock")
	ul, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(context.Background(), ul)
	go s.Serve(context.Background(), tl)
	dials := []struct{ network, addr string }{{"unix", path}, {"tcp4", tl.Addr().String()}}
	if l6, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		go s.Serve(context.Background(), l6)
		dials = append(dials, struct{ network, addr string }{"tcp6", l6.Addr().String()})
	}
	defer s.Shutdown(context.Background())
	for _, dial := range dials {
		c, err := net.DialTimeout(dial.network, dial.addr, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte("ping"))
		got := make([]byte, 4)
		if _, err := io.ReadFull(c, got); err != nil || string(got) != "ping" {
			t.Fatalf("%s: echoed %q, %v", dial.network, got, err)
		}
		remote := <-h.addrs
		switch dial.network {
		case "unix":
			if ua, ok := remote.(*net.UnixAddr); !ok || ua.Name != "" {
				t.Errorf("unix: remote address %#v, want an unnamed *net.UnixAddr", remote)
			}
		default:
			if remote.String() != c.LocalAddr().String() {
				t.Errorf("%s: remote address %v, want the client's %v", dial.network, remote, c.LocalAddr())
			}
		}
		c.Close()
	}
}
