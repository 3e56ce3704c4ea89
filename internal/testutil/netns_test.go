package testutil

import (
	"context"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestNetnsVeth builds two hosts joined by a veth pair and sends bytes
// from one to the other over TCP.
func TestNetnsVeth(t *testing.T) {
	a, b := NewNetns(t), NewNetns(t)
	aIf, _ := Veth(t, a, netip.MustParsePrefix("192.0.2.1/24"), b, netip.MustParsePrefix("192.0.2.2/24"))
	if out := a.Run(t, "ip", "-br", "addr", "show", aIf); !strings.Contains(out, "192.0.2.1/24") {
		t.Fatalf("ip addr in %s: %q", a.Name, out)
	}
	var l net.Listener
	if err := a.Do(func() (err error) {
		l, err = net.Listen("tcp4", "192.0.2.1:0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		io.WriteString(c, "across the wire")
		c.Close()
	}()
	var c net.Conn
	if err := b.Do(func() (err error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var d net.Dialer
		c, err = d.DialContext(ctx, "tcp4", net.JoinHostPort("192.0.2.1", strconv.Itoa(port)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "across the wire" {
		t.Fatalf("read %q, %v", got, err)
	}
	// The host's own namespace cannot see 192.0.2.1 on a test interface.
	if c.LocalAddr().(*net.TCPAddr).IP.String() != "192.0.2.2" {
		t.Errorf("dialed from %v, want 192.0.2.2", c.LocalAddr())
	}
}

func TestListenHelpers(t *testing.T) {
	l := Listen(t, "")
	if ap := l.Addr().(*net.TCPAddr).AddrPort(); !ap.Addr().IsLoopback() || ap.Port() == 0 {
		t.Errorf("Listen bound %v", ap)
	}
	pc := ListenPacket(t, "udp4")
	if ap := pc.LocalAddr().(*net.UDPAddr).AddrPort(); !ap.Addr().IsLoopback() || ap.Port() == 0 {
		t.Errorf("ListenPacket bound %v", ap)
	}
}
