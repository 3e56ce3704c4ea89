package dnsclient

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/netkit-dev/netkit/internal/testutil"
)

func TestTrace(t *testing.T) {
	ns, hints := testutil.DNSHierarchy(t)
	roots, err := ReadRootHints(hints)
	if err != nil || len(roots) != 1 || roots[0] != netip.MustParseAddr("127.0.0.2") {
		t.Fatalf("hints %v %v", roots, err)
	}
	tr := &Tracer{Client: &Client{Timeout: time.Second, Attempts: 1}, Roots: roots}
	for _, tc := range []struct {
		name   string
		zones  string
		answer string
	}{
		{"www.test.example", ". example. test.example.", "192.0.2.10"},
		// Glueless: other.'s server is resolved from the root first.
		{"www.other", ". other.", "192.0.2.20"},
		// A CNAME into another zone is followed from the root.
		{"alias.other", ". other. . example. test.example.", "192.0.2.10"},
	} {
		var hops []Hop
		err := ns.Do(func() error {
			var err error
			hops, err = tr.Trace(context.Background(), tc.name, dns.TypeA)
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var zones []string
		for _, h := range hops {
			zones = append(zones, h.Zone)
		}
		last := hops[len(hops)-1]
		if strings.Join(zones, " ") != tc.zones || len(last.Answer) == 0 || !strings.Contains(last.Answer[len(last.Answer)-1], tc.answer) {
			t.Errorf("%s: zones %v, last %+v", tc.name, zones, last)
		}
		if hops[0].Referral == "" || hops[0].Server != "127.0.0.2#53" {
			t.Errorf("%s: first hop %+v", tc.name, hops[0])
		}
	}
	var hops []Hop
	ns.Do(func() error {
		hops, _ = tr.Trace(context.Background(), "nope.test.example", dns.TypeA)
		return nil
	})
	if last := hops[len(hops)-1]; last.Rcode != "NXDOMAIN" {
		t.Errorf("nope: %+v", last)
	}
}

// TestTraceOffline: in a namespace with no route, a trace from the built-in
// root hints fails at once with one line, and sends nothing anywhere.
func TestTraceOffline(t *testing.T) {
	ns := testutil.NewNetns(t) // loopback only: every root is unreachable
	tr := &Tracer{Client: &Client{Timeout: time.Second, Attempts: 2}}
	start := time.Now()
	err := ns.Do(func() error {
		_, err := tr.Trace(context.Background(), "example.com", dns.TypeA)
		return err
	})
	if err == nil {
		t.Fatal("a trace with no route succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("it took %s to fail", d)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "no server of . answered (") || !errors.Is(err, syscall.ENETUNREACH) {
		t.Errorf("the error is not one clear line: %q", msg)
	}
}
