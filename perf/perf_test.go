package perf

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/inetd"
	"github.com/netkit-dev/netkit/internal/testutil"
	"github.com/netkit-dev/netkit/server"
)

func TestRunEcho(t *testing.T) {
	s := &server.Server{Handler: inetd.Echo{}}
	l := testutil.Listen(t, "tcp4")
	go s.Serve(context.Background(), l)
	defer s.Shutdown(context.Background())
	e, _ := endpoint.FromAddr(l.Addr())
	res, err := RunEcho(context.Background(), EchoConfig{Target: e, Conns: 4, Payload: 100, Depth: 3, Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 || res.Requests < 100 || res.P50 <= 0 || res.P99 < res.P50 || res.ReqPerSec <= 0 {
		t.Errorf("result %+v", res)
	}
}

// TestRunEchoCatchesWrongBytes: a server that answers with other bytes is
// caught.
func TestRunEchoCatchesWrongBytes(t *testing.T) {
	s := &server.Server{Handler: liar{}}
	l := testutil.Listen(t, "tcp4")
	go s.Serve(context.Background(), l)
	defer s.Shutdown(context.Background())
	e, _ := endpoint.FromAddr(l.Addr())
	res, err := RunEcho(context.Background(), EchoConfig{Target: e, Duration: 100 * time.Millisecond, Warmup: -1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 1 || res.FirstError == "" {
		t.Errorf("a lying echo server went unnoticed: %+v", res)
	}
	l2 := testutil.Listen(t, "tcp4")
	dead, _ := endpoint.FromAddr(l2.Addr())
	l2.Close()
	if _, err := RunEcho(context.Background(), EchoConfig{Target: dead, Duration: time.Millisecond}); err == nil {
		t.Error("no error when nothing listens")
	}
}

type liar struct{ server.Base }

func (liar) OnData(c server.Conn, p []byte) {
	q := append([]byte(nil), p...)
	q[len(q)-1] ^= 1
	c.Write(q)
}

// TestRampFill: requests are the sequence number, then byte(conn*7+seq+i)
// at offset i, for any payload size; check accepts exactly those bytes.
func TestRampFill(t *testing.T) {
	for _, size := range []int{1, 7, 8, 9, 64, 300, 4096} {
		rp := newRamp(size)
		for _, conn := range []int{0, 1, 37, 999} {
			for _, seq := range []uint64{0, 1, 255, 256, 1 << 40} {
				want := make([]byte, size)
				for i := range want {
					if i < 8 {
						want[i] = byte(seq >> (8 * i))
					} else {
						want[i] = byte(conn*7 + int(seq) + i)
					}
				}
				got := make([]byte, size)
				rp.fill(got, conn, seq)
				if !bytes.Equal(got, want) {
					t.Fatalf("size %d conn %d seq %d: fill gave %x, want %x", size, conn, seq, got, want)
				}
				for off := 0; off < size; off += 3 {
					end := min(off+5, size)
					if !rp.check(want[off:end], off, conn, seq) {
						t.Fatalf("size %d conn %d seq %d: check refused bytes %d-%d", size, conn, seq, off, end)
					}
					bad := append([]byte(nil), want[off:end]...)
					bad[len(bad)-1] ^= 0x40
					if rp.check(bad, off, conn, seq) {
						t.Fatalf("size %d conn %d seq %d: check took a changed byte at %d", size, conn, seq, end-1)
					}
				}
			}
		}
	}
}

// dribble echoes one byte per write, so that echoes arrive in pieces.
type dribble struct{ server.Base }

func (dribble) OnData(c server.Conn, p []byte) {
	for i := range p {
		c.Write(p[i : i+1])
	}
}

// TestRunEchoEngines runs each mode against TCP and Unix servers, one of
// which echoes a byte at a time: every echo must be checked and none
// found wrong, and on Linux the epoll engine must be the one that ran.
func TestRunEchoEngines(t *testing.T) {
	for _, h := range []server.Handler{inetd.Echo{}, dribble{}} {
		for _, network := range []string{"tcp4", "unix"} {
			for _, fresh := range []bool{false, true} {
				name := fmt.Sprintf("%T/%s/fresh=%v", h, network, fresh)
				t.Run(name, func(t *testing.T) {
					s := &server.Server{Handler: h}
					var l net.Listener
					if network == "unix" {
						var err error
						if l, err = net.Listen("unix", filepath.Join(t.TempDir(), "echo.sock")); err != nil {
							t.Fatal(err)
						}
					} else {
						l = testutil.Listen(t, network)
					}
					go s.Serve(context.Background(), l)
					defer s.Shutdown(context.Background())
					e, ok := endpoint.FromAddr(l.Addr())
					if !ok {
						t.Fatalf("no endpoint for %v", l.Addr())
					}
					cfg := EchoConfig{Target: e, Conns: 5, Payload: 100, Depth: 3, Fresh: fresh, Loops: 2,
						Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond}
					if fresh {
						cfg.Depth = 1
					}
					res, err := RunEcho(context.Background(), cfg)
					if err != nil {
						t.Fatal(err)
					}
					if res.Errors != 0 || res.Requests < 50 || res.AllRequests < res.Requests || res.P99 < res.P50 || res.Fresh != fresh {
						t.Errorf("result %+v", res)
					}
					if want := "epoll"; runtime.GOOS == "linux" && res.Engine != want {
						t.Errorf("engine %q, want %q", res.Engine, want)
					}
				})
			}
		}
	}
}

// closer echoes the first request, then closes the connection.
type closer struct{ server.Base }

func (closer) OnData(c server.Conn, p []byte) {
	c.Write(p)
	c.Close()
}

// TestRunEchoFreshCatches: in --fresh mode a lying server is caught, and a
// server that closes after the echo is fine; in keep-alive mode that
// server's close is an error.
func TestRunEchoFreshCatches(t *testing.T) {
	run := func(h server.Handler, fresh bool) EchoResult {
		s := &server.Server{Handler: h}
		l := testutil.Listen(t, "tcp4")
		go s.Serve(context.Background(), l)
		defer s.Shutdown(context.Background())
		e, _ := endpoint.FromAddr(l.Addr())
		res, err := RunEcho(context.Background(), EchoConfig{Target: e, Conns: 2, Fresh: fresh, Duration: 200 * time.Millisecond, Warmup: -1})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if r := run(liar{}, true); r.Errors == 0 || r.Requests != 0 || !strings.Contains(r.FirstError, "differs") {
		t.Errorf("fresh, lying server: %+v", r)
	}
	if r := run(closer{}, true); r.Errors != 0 || r.Requests < 20 {
		t.Errorf("fresh, closing server: %+v", r)
	}
	// The server's close shows as an EOF, or as a reset if the next
	// request reached the closed socket first.
	if r := run(closer{}, false); r.Errors != 2 || !(strings.Contains(r.FirstError, "closed") || strings.Contains(r.FirstError, "reset")) {
		t.Errorf("keep-alive, closing server: %+v", r)
	}
}

// TestRunEchoTLS: tls targets run on goroutines, kept-alive and fresh,
// and still check every echo.
func TestRunEchoTLS(t *testing.T) {
	cert, pool := testutil.SelfSigned(t)
	for _, h := range []server.Handler{inetd.Echo{}, liar{}} {
		s := &server.Server{Handler: h}
		l := tls.NewListener(testutil.Listen(t, "tcp4"), &tls.Config{Certificates: []tls.Certificate{cert}})
		go s.Serve(context.Background(), l)
		defer s.Shutdown(context.Background())
		e, _ := endpoint.FromAddr(l.Addr())
		e.Scheme = endpoint.TLS
		d := &endpoint.Dialer{TLSConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}
		for _, fresh := range []bool{false, true} {
			res, err := RunEcho(context.Background(), EchoConfig{Target: e, Conns: 2, Fresh: fresh, Dialer: d, Duration: 200 * time.Millisecond, Warmup: -1})
			if err != nil {
				t.Fatal(err)
			}
			if res.Engine != "goroutines" {
				t.Errorf("tls ran on %q", res.Engine)
			}
			_, lying := h.(liar)
			if lying && (res.Errors == 0 || res.Requests != 0) || !lying && (res.Errors != 0 || res.Requests < 10) {
				t.Errorf("%T fresh=%v: %+v", h, fresh, res)
			}
		}
	}
}

// TestRunEchoNoEcho: a server that accepts and never answers is a failed
// test, not a result of 0 requests.
func TestRunEchoNoEcho(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go io.Copy(io.Discard, c) // reads, never writes
		}
	}()
	target, _ := endpoint.FromAddr(l.Addr())
	_, err = RunEcho(context.Background(), EchoConfig{Target: target, Conns: 2, Duration: 200 * time.Millisecond, Warmup: -1})
	if !errors.Is(err, ErrNoEcho) {
		t.Fatalf("err = %v, want ErrNoEcho", err)
	}
}
