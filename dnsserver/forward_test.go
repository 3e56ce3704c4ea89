package dnsserver

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/netkit-dev/netkit/dnsclient"
	"github.com/netkit-dev/netkit/internal/testutil"
)

// upstream is a scripted upstream server that counts its queries.
type upstream struct {
	queries atomic.Int32
	down    atomic.Bool
}

func (u *upstream) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	u.queries.Add(1)
	if u.down.Load() {
		return // a dead server: no answer
	}
	r := new(dns.Msg)
	r.SetReply(q)
	rr := func(s string) dns.RR {
		x, err := dns.NewRR(s)
		if err != nil {
			panic(err)
		}
		return x
	}
	soa := rr("up. 600 IN SOA ns.up. h.up. 1 2 3 4 60")
	switch strings.ToLower(q.Question[0].Name) {
	case "a.up.":
		r.Answer = []dns.RR{rr("a.up. 100 IN A 192.0.2.1"), rr("evil.other. 100 IN A 203.0.113.66")}
		r.Ns = []dns.RR{rr("other. 100 IN NS ns.evil.")}
		r.Extra = []dns.RR{rr("ns.evil. 100 IN A 203.0.113.66")}
	case "cname.up.":
		r.Answer = []dns.RR{rr("cname.up. 300 IN CNAME a.up."), rr("a.up. 50 IN A 192.0.2.1")}
	case "nx.up.":
		r.Rcode = dns.RcodeNameError
		r.Ns = []dns.RR{soa, rr("other. 600 IN SOA ns.other. h.other. 1 2 3 4 60")}
	case "nodata.up.":
		r.Ns = []dns.RR{soa}
	case "long.up.":
		r.Answer = []dns.RR{rr("long.up. 999999 IN A 192.0.2.2")}
	case "wrongq.up.":
		// A forgery first (the right ID, another question), then the
		// real answer.
		forged := r.Copy()
		forged.Question[0].Name = "other.up."
		forged.Answer = []dns.RR{rr("other.up. 100 IN A 203.0.113.66")}
		w.WriteMsg(forged)
		r.Answer = []dns.RR{rr("wrongq.up. 100 IN A 192.0.2.7")}
	case "fail.up.":
		r.Rcode = dns.RcodeServerFailure
	case "www.sub.up.":
		// A referral, as a server that does not recurse gives: NS records
		// for the zone cut, no SOA, no answer; and one NS not above the name.
		r.Ns = []dns.RR{rr("sub.up. 300 IN NS ns.sub.up."), rr("sub.up. 300 IN NS ns.outside.up."), rr("elsewhere.up. 300 IN NS ns.evil.")}
		r.Extra = []dns.RR{rr("ns.sub.up. 300 IN A 192.0.2.53"), rr("ns.sub.up. 300 IN AAAA 2001:db8::53"),
			rr("ns.outside.up. 300 IN A 203.0.113.66"), rr("ns.evil. 300 IN A 203.0.113.66")}
	}
	w.WriteMsg(r)
}

func newForwarder(t *testing.T, ups ...*upstream) (*Forwarder, *time.Time) {
	t.Helper()
	now := time.Unix(1_000_000, 0)
	f := &Forwarder{Timeout: 300 * time.Millisecond, Cache: &Cache{Size: 100, MaxTTL: time.Hour, now: func() time.Time { return now }}}
	for _, u := range ups {
		f.Upstreams = append(f.Upstreams, dnsclient.Server{Transport: dnsclient.UDP, Addr: testutil.DNS(t, u)})
	}
	return f, &now
}

func TestForwarderCachesAndCountsDown(t *testing.T) {
	u := &upstream{}
	f, now := newForwarder(t, u)
	ctx := context.Background()
	a, err := f.Resolve(ctx, "A.up.", dns.TypeA, false)
	if err != nil {
		t.Fatal(err)
	}
	// Only the record that answers the question survives.
	if rrs(a.Answer) != "a.up. 100 A 192.0.2.1" || len(a.Ns) != 0 || a.Cached {
		t.Errorf("first answer: %s / %s cached=%v", rrs(a.Answer), rrs(a.Ns), a.Cached)
	}
	*now = now.Add(30 * time.Second)
	a, _ = f.Resolve(ctx, "a.up.", dns.TypeA, false)
	if rrs(a.Answer) != "a.up. 70 A 192.0.2.1" || !a.Cached || u.queries.Load() != 1 {
		t.Errorf("30s later: %s cached=%v, %d upstream queries", rrs(a.Answer), a.Cached, u.queries.Load())
	}
	*now = now.Add(71 * time.Second)
	a, _ = f.Resolve(ctx, "a.up.", dns.TypeA, false)
	if a.Cached || u.queries.Load() != 2 {
		t.Errorf("after expiry: cached=%v, %d upstream queries", a.Cached, u.queries.Load())
	}
	// The bailiwick: the out-of-zone records never got into the cache.
	if e, _ := f.Cache.get(cacheKey{"evil.other.", dns.TypeA, false}, *now); e != nil {
		t.Error("evil.other. was cached")
	}
}

func TestForwarderNegativeCaching(t *testing.T) {
	u := &upstream{}
	f, now := newForwarder(t, u)
	ctx := context.Background()
	for _, name := range []string{"nx.up.", "nodata.up."} {
		a, err := f.Resolve(ctx, name, dns.TypeA, false)
		if err != nil {
			t.Fatal(err)
		}
		// RFC 2308: the SOA of the zone holding the name, with TTL
		// min(SOA TTL, MINIMUM); the other zone's SOA is dropped.
		if rrs(a.Ns) != "up. 60 SOA ns.up. h.up. 1 2 3 4 60" {
			t.Errorf("%s: authority %s", name, rrs(a.Ns))
		}
	}
	*now = now.Add(59 * time.Second)
	a, _ := f.Resolve(ctx, "nx.up.", dns.TypeA, false)
	if !a.Cached || a.Rcode != dns.RcodeNameError || rrs(a.Ns) != "up. 1 SOA ns.up. h.up. 1 2 3 4 60" {
		t.Errorf("59s later: cached=%v %s %s", a.Cached, dns.RcodeToString[a.Rcode], rrs(a.Ns))
	}
	*now = now.Add(2 * time.Second)
	if a, _ := f.Resolve(ctx, "nx.up.", dns.TypeA, false); a.Cached {
		t.Error("the negative answer outlived its 60s")
	}
}

func TestForwarderCNAMEAndCap(t *testing.T) {
	f, _ := newForwarder(t, &upstream{})
	ctx := context.Background()
	a, _ := f.Resolve(ctx, "cname.up.", dns.TypeA, false)
	if rrs(a.Answer) != "cname.up. 300 CNAME a.up.; a.up. 50 A 192.0.2.1" {
		t.Errorf("CNAME chain: %s", rrs(a.Answer))
	}
	// TTLs above --max-ttl are lowered to it.
	a, _ = f.Resolve(ctx, "long.up.", dns.TypeA, false)
	if rrs(a.Answer) != "long.up. 3600 A 192.0.2.2" {
		t.Errorf("capped: %s", rrs(a.Answer))
	}
}

func TestForwarderRejectsAndFailsOver(t *testing.T) {
	dead, live := &upstream{}, &upstream{}
	dead.down.Store(true)
	f, _ := newForwarder(t, dead, live)
	ctx := context.Background()
	// A reply to another question is ignored (RFC 5452): the real answer
	// that follows it is taken.
	if a, err := f.Resolve(ctx, "wrongq.up.", dns.TypeA, false); err != nil || rrs(a.Answer) != "wrongq.up. 100 A 192.0.2.7" {
		t.Errorf("after a forged reply: %v %+v", err, a)
	}
	if _, err := f.Resolve(ctx, "fail.up.", dns.TypeA, false); err == nil || !strings.Contains(err.Error(), "SERVFAIL") {
		t.Errorf("SERVFAIL upstream: %v", err)
	}
	a, err := f.Resolve(ctx, "a.up.", dns.TypeA, false)
	if err != nil || a.Upstream != f.Upstreams[1].String() {
		t.Fatalf("failover: %v from %q", err, a.Upstream)
	}
	// The live one is asked first from now on: the dead one is not asked.
	before := dead.queries.Load()
	if _, err := f.Resolve(ctx, "cname.up.", dns.TypeA, false); err != nil || dead.queries.Load() != before {
		t.Errorf("after failover: %v; the dead upstream got %d more queries", err, dead.queries.Load()-before)
	}
}

func TestServeStale(t *testing.T) {
	u := &upstream{}
	f, now := newForwarder(t, u)
	f.Cache.Stale = time.Hour
	ctx := context.Background()
	f.Resolve(ctx, "a.up.", dns.TypeA, false)
	u.down.Store(true)
	*now = now.Add(10 * time.Minute) // expired, inside the stale window
	a, err := f.Resolve(ctx, "a.up.", dns.TypeA, false)
	if err != nil || !a.Stale || rrs(a.Answer) != "a.up. 30 A 192.0.2.1" {
		t.Fatalf("stale: %v %+v", err, a)
	}
	*now = now.Add(2 * time.Hour) // past the window
	if _, err := f.Resolve(ctx, "a.up.", dns.TypeA, false); err == nil {
		t.Error("an entry past the stale window was served")
	}
	// Without serve-stale, an expired entry is not served.
	f2, now2 := newForwarder(t, &upstream{})
	f2.Resolve(ctx, "a.up.", dns.TypeA, false)
	f2.Upstreams[0].Addr = "127.0.0.1:1"
	*now2 = now2.Add(10 * time.Minute)
	if _, err := f2.Resolve(ctx, "a.up.", dns.TypeA, false); err == nil {
		t.Error("stale data served without serve-stale")
	}
}

func TestServerForwards(t *testing.T) {
	u := &upstream{}
	f, _ := newForwarder(t, u)
	f.Cache.now = nil // real time: the packed answers count down on it
	s := loadTest(t)
	s.Forwarder = f
	addr := serve(t, s)
	q := new(dns.Msg)
	q.SetQuestion("a.up.", dns.TypeA)
	q.SetEdns0(1232, false)
	for i := range 3 {
		r := exchange(t, "udp", addr, q)
		if r.Rcode != dns.RcodeSuccess || !r.RecursionAvailable || r.Authoritative || rrs(r.Answer) != "a.up. 100 A 192.0.2.1" {
			t.Errorf("query %d: %s ra=%v aa=%v %s", i, dns.RcodeToString[r.Rcode], r.RecursionAvailable, r.Authoritative, rrs(r.Answer))
		}
	}
	if n := u.queries.Load(); n != 1 {
		t.Errorf("%d upstream queries for 3 identical ones, want 1", n)
	}
	// The zones still answer for themselves.
	q.SetQuestion("www.example.", dns.TypeA)
	if r := exchange(t, "udp", addr, q); !r.Authoritative || len(r.Answer) != 2 {
		t.Errorf("zone answer with a forwarder: aa=%v %s", r.Authoritative, rrs(r.Answer))
	}
	// No upstream: SERVFAIL.
	u.down.Store(true)
	q.SetQuestion("cname.up.", dns.TypeA)
	if r := exchange(t, "tcp", addr, q); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("upstream down: %s", dns.RcodeToString[r.Rcode])
	}
}

func TestFastPathTTLCountdown(t *testing.T) {
	var f fastCache
	q := new(dns.Msg)
	q.SetQuestion("a.up.", dns.TypeA)
	wire, _ := q.Pack()
	r := new(dns.Msg)
	r.SetReply(q)
	a, _ := dns.NewRR("a.up. 100 IN A 192.0.2.1")
	r.Answer = []dns.RR{a}
	rw, _ := r.Pack()
	t0 := time.Unix(5000, 0)
	f.store(wire, rw, f.gen.Load(), source{kind: "upstream", ttls: true, expires: t0.Add(100 * time.Second)}, t0)
	out, ok := f.answer(wire, nil, t0.Add(42*time.Second+500*time.Millisecond))
	var m dns.Msg
	if !ok || m.Unpack(out) != nil || m.Answer[0].Header().Ttl != 58 {
		t.Fatalf("42.5s later: ok=%v %v", ok, m.Answer)
	}
	if _, ok := f.answer(wire, nil, t0.Add(100*time.Second)); ok {
		t.Error("an expired packed answer was used")
	}
}

// TestInFlightCap: an upstream that never answers cannot make the server
// hold more than MaxInFlight queries; the rest get SERVFAIL at once, and
// the slots come back when the waits time out.
func TestInFlightCap(t *testing.T) {
	black, err := net.ListenPacket("udp", "127.0.0.1:0") // reads, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer black.Close()
	up, _ := dnsclient.ParseServer(black.LocalAddr().String())
	s := &Server{Forwarder: &Forwarder{Upstreams: []dnsclient.Server{up}, Timeout: 300 * time.Millisecond}, MaxInFlight: 4}
	addr := serve(t, s)
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 10 {
		m := new(dns.Msg)
		m.SetQuestion(fmt.Sprintf("name%d.example.", i), dns.TypeA) // all different: none shares an upstream query
		b, _ := m.Pack()
		c.Write(b)
	}
	servfail := 0
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond)) // before the upstream timeout
	buf := make([]byte, 512)
	for {
		n, err := c.Read(buf)
		if err != nil {
			break
		}
		r := new(dns.Msg)
		if r.Unpack(buf[:n]) == nil && r.Rcode == dns.RcodeServerFailure && len(r.Question) == 1 {
			servfail++
		}
	}
	if servfail != 6 || s.Stats().Overloaded != 6 {
		t.Errorf("%d SERVFAIL at once and %d overloaded, want 6 and 6 (4 may wait)", servfail, s.Stats().Overloaded)
	}
	for deadline := time.Now().Add(5 * time.Second); s.inflight.Load() != 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := s.inflight.Load(); n != 0 {
		t.Errorf("%d queries still counted in flight after the upstream timeouts", n)
	}
}

// TestForwarderPassesReferrals: a referral from the upstream comes through
// as one (its NS records in the authority section), not as an empty
// NOERROR; NS records for zones not above the name do not.
func TestForwarderPassesReferrals(t *testing.T) {
	f, _ := newForwarder(t, &upstream{})
	a, err := f.Resolve(context.Background(), "www.sub.up.", dns.TypeA, false)
	if err != nil {
		t.Fatal(err)
	}
	if a.Rcode != dns.RcodeSuccess || len(a.Answer) != 0 || rrs(a.Ns) != "sub.up. 300 NS ns.sub.up.; sub.up. 300 NS ns.outside.up." {
		t.Errorf("referral: rcode %d, answer %v, authority %q", a.Rcode, a.Answer, rrs(a.Ns))
	}
	// The glue comes with it: in-zone addresses only, not one for a name
	// server outside the delegated zone, nor for one of another NS set.
	if got := rrs(a.Extra); got != "ns.sub.up. 300 A 192.0.2.53; ns.sub.up. 300 AAAA 2001:db8::53" {
		t.Errorf("glue %q", got)
	}
}

// TestPerUpstreamCap: an upstream that never answers holds at most
// MaxPerUpstream queries; beyond it questions go to the next upstream at
// once, and fail at once when every upstream is full.
func TestPerUpstreamCap(t *testing.T) {
	black, err := net.ListenPacket("udp", "127.0.0.1:0") // reads, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer black.Close()
	hole, _ := dnsclient.ParseServer(black.LocalAddr().String())
	live := &upstream{}
	f, _ := newForwarder(t, live)
	f.Upstreams = append([]dnsclient.Server{hole}, f.Upstreams...)
	f.Timeout, f.MaxPerUpstream = time.Second, 2
	ctx := context.Background()
	// Two questions wait on the black hole: its cap is reached.
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() { f.Resolve(ctx, fmt.Sprintf("wait%d.up.", i), dns.TypeA, false) })
	}
	for deadline := time.Now().Add(2 * time.Second); f.waiting(0) < 2; {
		if time.Now().After(deadline) {
			t.Fatal("the two waits did not reach the black hole")
		}
		time.Sleep(time.Millisecond)
	}
	// The third goes to the live upstream at once, not after a timeout.
	start := time.Now()
	a, err := f.Resolve(ctx, "a.up.", dns.TypeA, false)
	if err != nil || a.Upstream != f.Upstreams[1].String() || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("past a full upstream: %v, %+v, after %v", err, a, time.Since(start))
	}
	if f.Saturated() != 1 {
		t.Fatalf("Saturated() = %d, want 1", f.Saturated())
	}
	wg.Wait()
	if n := f.waiting(0); n != 0 {
		t.Fatalf("%d queries still counted after the timeouts", n)
	}
	// With no other upstream, a question past the cap fails at once, with
	// the reason.
	only := &Forwarder{Upstreams: []dnsclient.Server{hole}, Timeout: time.Second, MaxPerUpstream: 1}
	wg.Go(func() { only.Resolve(ctx, "wait.up.", dns.TypeA, false) })
	for deadline := time.Now().Add(2 * time.Second); only.waiting(0) < 1; {
		if time.Now().After(deadline) {
			t.Fatal("the wait did not reach the black hole")
		}
		time.Sleep(time.Millisecond)
	}
	start = time.Now()
	_, err = only.Resolve(ctx, "b.up.", dns.TypeA, false)
	if err == nil || !strings.Contains(err.Error(), "per-upstream cap") || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("every upstream full: %v after %v", err, time.Since(start))
	}
	wg.Wait()
}
