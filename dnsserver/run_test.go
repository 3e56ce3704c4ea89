package dnsserver

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestListenForms(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		addr     string
		udp, tcp bool
		wantErr  string
	}{
		{addr: "127.0.0.1:0", udp: true, tcp: true},
		{addr: "udp://127.0.0.1:0", udp: true},
		{addr: "tcp://127.0.0.1:0", tcp: true},
		{addr: "[::1]:0", udp: true, tcp: true},
		{addr: "localhost:53", wantErr: "literal address"},
		{addr: "unix:///tmp/x", wantErr: "served over udp and tcp"},
		{addr: "127.0.0.1:99999", wantErr: "invalid port"},
	}
	for _, tt := range tests {
		k, err := Listen(ctx, tt.addr)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Listen(%q) = %v, want %q", tt.addr, err, tt.wantErr)
			}
			if err == nil {
				k.Close()
			}
			continue
		}
		if err != nil {
			if strings.Contains(tt.addr, "::1") {
				t.Logf("no IPv6 loopback: %v", err)
				continue
			}
			t.Fatalf("Listen(%q): %v", tt.addr, err)
		}
		if (k.UDP != nil) != tt.udp || (k.TCP != nil) != tt.tcp {
			t.Errorf("Listen(%q) = udp %v tcp %v", tt.addr, k.UDP != nil, k.TCP != nil)
		}
		if tt.udp && tt.tcp {
			eps := k.Endpoints()
			if len(eps) != 2 || strings.TrimPrefix(eps[0], "udp://") != strings.TrimPrefix(eps[1], "tcp://") {
				t.Errorf("both on one port: %v", eps)
			}
		}
		k.Close()
	}
}

// TestStalledTCPClients: a thousand TCP connections that send nothing,
// from 40 addresses, do not lock a new client out (they did: 1,200 of them
// made every other client's connection reset).
func TestStalledTCPClients(t *testing.T) {
	z, err := ParseZone(strings.NewReader("$ORIGIN t.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n"), "t.", "t")
	if err != nil {
		t.Fatal(err)
	}
	zs, _ := NewZones(z)
	s := &Server{}
	s.SetZones(zs)
	sock, err := Listen(context.Background(), "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := sock.TCP.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, []Socket{sock}, RunConfig{}) }()
	defer func() { cancel(); <-done }()

	var stalled []net.Conn
	defer func() {
		for _, c := range stalled {
			c.Close()
		}
	}()
	for i := range 1100 {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(1+i%40))}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		stalled = append(stalled, c)
	}
	time.Sleep(1100 * time.Millisecond) // long enough to count as idle
	c, err := dns.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	m := new(dns.Msg)
	m.SetQuestion("ns.t.", dns.TypeA)
	if err := c.WriteMsg(m); err != nil {
		t.Fatal(err)
	}
	r, err := c.ReadMsg()
	if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Fatalf("a new client behind 1,100 stalled ones: %v %v", r, err)
	}
}
