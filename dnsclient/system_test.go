package dnsclient

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/netkit-dev/netkit/internal/testutil"
)

// fakeDNS serves a tiny zone on loopback and returns a resolver that sends
// every query there, so the test never leaves the machine.
func fakeDNS(t *testing.T) *net.Resolver {
	t.Helper()
	pc := testutil.ListenPacket(t, "udp4")
	zone := map[string][]string{
		"www.example.test.":  {"www.example.test. 60 IN CNAME host.example.test."},
		"host.example.test.": {"host.example.test. 60 IN A 192.0.2.10", "host.example.test. 60 IN A 192.0.2.11", "host.example.test. 60 IN AAAA 2001:db8::10"},
		"v6.example.test.":   {"v6.example.test. 60 IN AAAA 2001:db8::6"},
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		q := r.Question[0]
		name := q.Name
		found := false
		for depth := 0; depth < 4; depth++ {
			rrs, ok := zone[name]
			if !ok {
				break
			}
			found = true
			next := ""
			for _, s := range rrs {
				rr, err := dns.NewRR(s)
				if err != nil {
					t.Errorf("bad fixture %q: %v", s, err)
					return
				}
				if rr.Header().Rrtype == q.Qtype || rr.Header().Rrtype == dns.TypeCNAME {
					m.Answer = append(m.Answer, rr)
				}
				if c, ok := rr.(*dns.CNAME); ok {
					next = c.Target
				}
			}
			if next == "" {
				break
			}
			name = next
		}
		if !found {
			m.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(m)
	})}
	ready := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(ready) }
	go srv.ActivateAndServe()
	<-ready
	t.Cleanup(func() { srv.Shutdown() })
	addr := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

func TestSystemLookup(t *testing.T) {
	s := &System{Resolver: fakeDNS(t)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tests := []struct {
		name      string
		fam       Family
		canonical string
		addrs     []string
	}{
		{"www.example.test", AnyFamily, "host.example.test", []string{"192.0.2.10", "192.0.2.11", "2001:db8::10"}},
		{"host.example.test.", IPv4, "host.example.test", []string{"192.0.2.10", "192.0.2.11"}},
		{"www.example.test", IPv6, "host.example.test", []string{"2001:db8::10"}},
		{"192.0.2.99", AnyFamily, "192.0.2.99", []string{"192.0.2.99"}},
		{"2001:db8::1", IPv6, "2001:db8::1", []string{"2001:db8::1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := s.Lookup(ctx, tt.name, tt.fam)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range h.Addrs {
				got = append(got, a.String())
			}
			slices.Sort(got[:countV4(h.Addrs)]) // within a family the resolver's order may vary
			if !slices.Equal(got, tt.addrs) || h.Canonical != tt.canonical || h.Name != tt.name {
				t.Errorf("Lookup(%s) = %+v, want canonical %s addrs %v", tt.name, h, tt.canonical, tt.addrs)
			}
		})
	}
}

func countV4(as []netip.Addr) int {
	n := 0
	for _, a := range as {
		if a.Is4() {
			n++
		}
	}
	return n
}

func TestSystemNotFound(t *testing.T) {
	s := &System{Resolver: fakeDNS(t)}
	ctx := context.Background()
	_, err := s.Lookup(ctx, "missing.example.test", AnyFamily)
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Fatalf("Lookup(missing) = %v, want a not-found DNSError", err)
	}
	// Names under .invalid fail without a query (RFC 6761).
	for _, name := range []string{"x.invalid", "X.INVALID.", "invalid"} {
		_, err := s.Lookup(ctx, name, AnyFamily)
		if !errors.Is(err, ErrInvalidName) || !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
			t.Errorf("Lookup(%s) = %v, want ErrInvalidName", name, err)
		}
	}
	if _, err := s.Lookup(ctx, "192.0.2.1", IPv6); err == nil {
		t.Error("an IPv4 literal resolved as IPv6")
	}
}
