package endpoint_test

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/internal/testutil"
)

func TestDialListenTCP(t *testing.T) {
	for _, network := range []string{"tcp4", "tcp6"} {
		t.Run(network, func(t *testing.T) {
			host := "127.0.0.1"
			if network == "tcp6" {
				if !testutil.HasIPv6Loopback() {
					t.Skip("no ::1")
				}
				host = "::1"
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			e := endpoint.Endpoint{Scheme: endpoint.Scheme(network), Host: host}
			l, err := endpoint.Listen(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			bound, ok := endpoint.FromAddr(l.Addr())
			if !ok || bound.Port == 0 || bound.Host != host {
				t.Fatalf("FromAddr(%v) = %v, %v", l.Addr(), bound, ok)
			}
			go func() {
				c, err := l.Accept()
				if err != nil {
					return
				}
				io.WriteString(c, "hi")
				c.Close()
			}()
			c, err := endpoint.Dial(ctx, e.WithPort(bound.Port))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			b, err := io.ReadAll(c)
			if err != nil || string(b) != "hi" {
				t.Fatalf("read %q, %v", b, err)
			}
		})
	}
}

func TestDialUDP(t *testing.T) {
	ctx := context.Background()
	pc, err := endpoint.ListenPacket(ctx, endpoint.MustParse("udp4://127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	e, _ := endpoint.FromAddr(pc.LocalAddr())
	c, err := endpoint.Dial(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := pc.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "ping" {
		t.Fatalf("ReadFrom: %q, %v", buf[:n], err)
	}
}

func TestListenUnix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	e := endpoint.MustParse("unix://" + path)
	l, err := endpoint.Listen(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		if c, err := l.Accept(); err == nil {
			c.Close()
		}
	}()
	c, err := endpoint.Dial(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func TestMisuse(t *testing.T) {
	ctx := context.Background()
	if _, err := endpoint.Dial(ctx, endpoint.MustParse("-")); !errors.Is(err, endpoint.ErrStdio) {
		t.Errorf("Dial(-) = %v, want ErrStdio", err)
	}
	if _, err := endpoint.Listen(ctx, endpoint.MustParse("udp://127.0.0.1:0")); err == nil {
		t.Error("Listen on udp succeeded")
	}
	if _, err := endpoint.ListenPacket(ctx, endpoint.MustParse("tcp://127.0.0.1:0")); err == nil {
		t.Error("ListenPacket on tcp succeeded")
	}
	if _, err := endpoint.Listen(ctx, endpoint.MustParse("tls://127.0.0.1:0")); err == nil {
		t.Error("Listen on tls without a certificate succeeded")
	}
	if _, err := endpoint.Dial(ctx, endpoint.Endpoint{}); err == nil {
		t.Error("Dial of the zero endpoint succeeded")
	}
}

func TestDialRefused(t *testing.T) {
	l := testutil.Listen(t, "tcp4")
	e, _ := endpoint.FromAddr(l.Addr())
	l.Close()
	_, err := endpoint.Dial(context.Background(), e)
	var op *net.OpError
	if !errors.As(err, &op) {
		t.Fatalf("Dial of a closed port: %v, want a *net.OpError", err)
	}
}

func TestDialInvalidTLD(t *testing.T) {
	_, err := endpoint.Dial(context.Background(), endpoint.MustParse("tcp://host.INVALID.:80"))
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Errorf("Dial of a .invalid name = %v, want a not-found DNSError", err)
	}
}

func TestListenBoth(t *testing.T) {
	var lc endpoint.ListenConfig
	ctx := context.Background()
	for range 20 {
		l, pc, err := lc.ListenBoth(ctx, "tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if l.Addr().String() != pc.LocalAddr().String() {
			t.Errorf("ListenBoth: tcp %s, udp %s; want one address", l.Addr(), pc.LocalAddr())
		}
		l.Close()
		pc.Close()
	}
	// A fixed port whose TCP side is taken fails at once, naming the port.
	held := testutil.Listen(t, "tcp4")
	if _, _, err := lc.ListenBoth(ctx, "tcp4", held.Addr().String()); !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("ListenBoth on a held TCP port: %v, want EADDRINUSE", err)
	}
	if _, _, err := lc.ListenBoth(ctx, "udp4", "127.0.0.1:0"); err == nil {
		t.Error("ListenBoth with a udp network succeeded")
	}
}

func TestDialErrorNamesTheEndpoint(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	e := endpoint.MustParse("tcp://" + addr)
	_, err = endpoint.Dial(context.Background(), e)
	de, ok := errors.AsType[*endpoint.DialError](err)
	if !ok || de.Endpoint != e {
		t.Fatalf("err = %T %v, want *endpoint.DialError for %s", err, err, e)
	}
	if want := "connect " + e.String() + ": connection refused"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Error("the errno is lost")
	}
	_, err = endpoint.Dial(context.Background(), endpoint.MustParse("tcp://no-such-host.invalid:80"))
	if err == nil || !strings.Contains(err.Error(), "cannot resolve no-such-host.invalid") {
		t.Errorf("resolve failure: %v", err)
	}
}
