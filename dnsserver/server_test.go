package dnsserver

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/server"
)

// serve runs s on a loopback port, UDP and TCP, until the test ends.
func serve(t *testing.T, s *Server) string {
	t.Helper()
	var lc endpoint.ListenConfig
	l, pc, err := lc.ListenBoth(context.Background(), "tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tcp := s.TCPServer(server.Config{})
	var wg sync.WaitGroup
	wg.Go(func() { s.ServeUDP(ctx, pc.(*net.UDPConn), 2) })
	wg.Go(func() { tcp.Serve(ctx, l) })
	t.Cleanup(func() {
		cancel()
		pc.Close()
		wg.Wait()
	})
	return pc.LocalAddr().String()
}

// raw sends a UDP datagram and returns the reply, or nil after wait.
func raw(t *testing.T, addr string, q []byte, wait time.Duration) []byte {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(q)
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

func exchange(t *testing.T, netw, addr string, q *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: netw, Timeout: 2 * time.Second, UDPSize: 65535}
	r, _, err := c.Exchange(q, addr)
	if err != nil {
		t.Fatalf("%s %s: %v", netw, q.Question[0].String(), err)
	}
	return r
}

func TestFastPathMatchesSlowPath(t *testing.T) {
	s := loadTest(t)
	addr := serve(t, s)
	for _, tc := range []struct {
		name  string
		qtype uint16
		edns  bool
	}{
		{"www.example.", dns.TypeA, true},
		{"nx.example.", dns.TypeA, false},
		{"alias2.example.", dns.TypeA, true},
		{"a.child.example.", dns.TypeA, true},
		{"elsewhere.test.", dns.TypeA, false},
		{"foo.wild.example.", dns.TypeTXT, true},
	} {
		q := new(dns.Msg)
		q.SetQuestion(tc.name, tc.qtype)
		if tc.edns {
			q.SetEdns0(1232, false)
		}
		wire, _ := q.Pack()
		first := raw(t, addr, wire, 2*time.Second)
		before := s.Stats().FastHits
		// The same question again, with another ID, letter case and RD.
		q.Id++
		q.RecursionDesired = false
		q.Question[0].Name = strings.ToUpper(tc.name)
		wire2, _ := q.Pack()
		second := raw(t, addr, wire2, 2*time.Second)
		if s.Stats().FastHits != before+1 {
			t.Errorf("%s: the repeated question was not answered from packed answers", tc.name)
		}
		// What the slow path says to the second query, packed.
		m := new(dns.Msg)
		m.Unpack(wire2)
		want, _ := s.Answer(context.Background(), m, netip.AddrPort{}, false)
		var a, b dns.Msg
		if err := a.Unpack(second); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		b = *want
		if a.String() != b.String() {
			t.Errorf("%s: fast path:\n%s\nslow path:\n%s", tc.name, a.String(), b.String())
		}
		if a.Question[0].Name != strings.ToUpper(tc.name) || a.Id != q.Id || a.RecursionDesired {
			t.Errorf("%s: fast answer has question %s, ID %d (want %d), RD %v", tc.name, a.Question[0].Name, a.Id, q.Id, a.RecursionDesired)
		}
		if len(first) != len(second) {
			t.Errorf("%s: %d bytes, then %d", tc.name, len(first), len(second))
		}
	}
}

func TestTruncation(t *testing.T) {
	s := loadTest(t)
	addr := serve(t, s)
	q := new(dns.Msg)
	q.SetQuestion("big.example.", dns.TypeTXT)
	// No EDNS: 512 bytes at most, TC set.
	wire, _ := q.Pack()
	r := raw(t, addr, wire, 2*time.Second)
	var m dns.Msg
	if err := m.Unpack(r); err != nil || len(r) > 512 || !m.Truncated {
		t.Errorf("big answer over UDP without EDNS: %d bytes, TC %v, %v", len(r), m.Truncated, err)
	}
	// EDNS 4096: it fits in the server's 1232.
	q.SetEdns0(4096, false)
	if m := exchange(t, "udp", addr, q); m.Truncated || len(m.Answer) != 6 {
		t.Errorf("with EDNS 4096: TC %v, %d records", m.Truncated, len(m.Answer))
	}
	// A server limit below the answer truncates even for EDNS clients.
	small := loadTest(t)
	small.UDPSize = 600
	smallAddr := serve(t, small)
	if m := exchange(t, "udp", smallAddr, q); !m.Truncated || m.Len() > 600 {
		t.Errorf("--udp-size 600: TC %v, %d bytes", m.Truncated, m.Len())
	}
	if opt := exchange(t, "udp", smallAddr, q).IsEdns0(); opt == nil || opt.UDPSize() != 600 {
		t.Errorf("the OPT record announces %v, want 600", opt)
	}
	// TCP: whole.
	if m := exchange(t, "tcp", addr, q); m.Truncated || len(m.Answer) != 6 {
		t.Errorf("over TCP: TC %v, %d records", m.Truncated, len(m.Answer))
	}
}

func TestBadQueries(t *testing.T) {
	s := loadTest(t)
	addr := serve(t, s)
	good := new(dns.Msg)
	good.SetQuestion("www.example.", dns.TypeA)
	gw, _ := good.Pack()
	// Too short for a header: nothing.
	if r := raw(t, addr, []byte{1, 2, 3}, 200*time.Millisecond); r != nil {
		t.Errorf("3 bytes answered with %x", r)
	}
	// A response: nothing (never answer an answer).
	resp := slices.Clone(gw)
	resp[2] |= 0x80
	if r := raw(t, addr, resp, 200*time.Millisecond); r != nil {
		t.Errorf("a response was answered with %x", r)
	}
	// A header that promises a question that is not there: FORMERR.
	if r := raw(t, addr, gw[:12], time.Second); len(r) < 12 || r[3]&0xf != dns.RcodeFormatError || !bytes.Equal(r[:2], gw[:2]) {
		t.Errorf("a truncated query: %x, want FORMERR with its ID", r)
	}
	for _, tc := range []struct {
		what  string
		edit  func(m *dns.Msg)
		rcode int
	}{
		{"opcode NOTIFY", func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify }, dns.RcodeNotImplemented},
		{"class CH", func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }, dns.RcodeRefused},
		{"AXFR over UDP", func(m *dns.Msg) {
			m.Question[0] = dns.Question{Name: "example.", Qtype: dns.TypeAXFR, Qclass: dns.ClassINET}
		}, dns.RcodeRefused},
		{"two questions", func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }, dns.RcodeFormatError},
		{"EDNS version 1", func(m *dns.Msg) { m.SetEdns0(1232, false); m.IsEdns0().SetVersion(1) }, dns.RcodeBadVers},
	} {
		m := good.Copy()
		tc.edit(m)
		r := exchange(t, "udp", addr, m)
		if r.Rcode != tc.rcode {
			t.Errorf("%s: %s, want %s", tc.what, dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode])
		}
	}
}

func TestTransfer(t *testing.T) {
	s := loadTest(t)
	addr := serve(t, s)
	axfr := func(zone string) ([]dns.RR, error) {
		q := new(dns.Msg)
		q.SetAxfr(zone)
		tr := &dns.Transfer{}
		ch, err := tr.In(q, addr)
		if err != nil {
			return nil, err
		}
		var out []dns.RR
		for env := range ch {
			if env.Error != nil {
				return out, env.Error
			}
			out = append(out, env.RR...)
		}
		return out, nil
	}
	if _, err := axfr("example."); err == nil || !strings.Contains(err.Error(), "rcode: 5") {
		t.Errorf("AXFR without --allow-transfer: %v, want REFUSED", err)
	}
	if st := s.Stats(); st.TransfersRefused != 1 {
		t.Errorf("%d transfers refused, want 1", st.TransfersRefused)
	}
	s = loadTest(t)
	s.AllowTransfer = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	addr = serve(t, s)
	got, err := axfr("example.")
	if err != nil {
		t.Fatal(err)
	}
	z := s.Zones().Find("example.")
	want := append(z.Records(), z.SOA)
	if rrs(got) != rrs(want) {
		t.Errorf("AXFR:\n got %s\nwant %s", rrs(got), rrs(want))
	}
	if _, err := axfr("www.example."); err == nil || !strings.Contains(err.Error(), "rcode: 9") {
		t.Errorf("AXFR of a name that is not a zone: %v, want NOTAUTH", err)
	}
	if st := s.Stats(); st.Transfers != 1 || st.TransfersRefused != 0 {
		t.Errorf("stats: %d transfers, %d refused; want 1 and 0", st.Transfers, st.TransfersRefused)
	}
}

func TestSetZonesFlushesPackedAnswers(t *testing.T) {
	s := loadTest(t)
	addr := serve(t, s)
	q := new(dns.Msg)
	q.SetQuestion("www.example.", dns.TypeA)
	exchange(t, "udp", addr, q)
	exchange(t, "udp", addr, q) // now packed
	z, err := ParseZone(strings.NewReader("$ORIGIN example.\n@ 60 SOA ns h 2 2 3 4 5\n@ 60 NS ns\nwww 60 A 192.0.2.7\n"), "", "new")
	if err != nil {
		t.Fatal(err)
	}
	zs, _ := NewZones(z)
	s.SetZones(zs)
	r := exchange(t, "udp", addr, q)
	if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.7" {
		t.Errorf("after SetZones: %s", rrs(r.Answer))
	}
}

func TestQueryLogAndStats(t *testing.T) {
	s := loadTest(t)
	var mu sync.Mutex
	var log []Query
	s.QueryLog = func(q Query) { mu.Lock(); log = append(log, q); mu.Unlock() }
	addr := serve(t, s)
	q := new(dns.Msg)
	q.SetQuestion("nx.example.", dns.TypeMX)
	exchange(t, "udp", addr, q)
	exchange(t, "tcp", addr, q)
	mu.Lock()
	defer mu.Unlock()
	if len(log) != 2 {
		t.Fatalf("%d log records, want 2", len(log))
	}
	for i, proto := range []string{"udp", "tcp"} {
		l := log[i]
		if l.Proto != proto || l.Name != "nx.example." || l.Type != "MX" || l.Rcode != "NXDOMAIN" || l.Flags != "aa rd" || l.Source != "zone" || l.Size == 0 {
			t.Errorf("log record %d: %+v", i, l)
		}
	}
	if st := s.Stats(); st.UDP != 1 || st.TCP != 1 || st.Rcodes["NXDOMAIN"] != 2 {
		t.Errorf("stats: %+v", st)
	}
}

func TestRateLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := &RateLimiter{Rate: 2, Burst: 2, Slip: 2, now: func() time.Time { return now }}
	a := netip.MustParseAddr("192.0.2.1")
	same := netip.MustParseAddr("192.0.2.200") // the same /24
	other := netip.MustParseAddr("198.51.100.1")
	got := []rrlAction{l.allow(a), l.allow(same), l.allow(a), l.allow(a), l.allow(a), l.allow(other)}
	want := []rrlAction{rrlAllow, rrlAllow, rrlDrop, rrlSlip, rrlDrop, rrlAllow}
	if !slices.Equal(got, want) {
		t.Errorf("actions %v, want %v", got, want)
	}
	now = now.Add(500 * time.Millisecond) // one token back
	if l.allow(a) != rrlAllow || l.allow(a) == rrlAllow {
		t.Error("after half a second at 2/s, one more answer should go, and only one")
	}
}

func TestRateLimitOnTheWire(t *testing.T) {
	s := loadTest(t)
	s.RateLimit = &RateLimiter{Rate: 1, Burst: 1, Slip: 1}
	addr := serve(t, s)
	q := new(dns.Msg)
	q.SetQuestion("www.example.", dns.TypeA)
	if r := exchange(t, "udp", addr, q); r.Truncated || len(r.Answer) != 2 {
		t.Fatalf("first answer: %v", r)
	}
	// Over the limit with slip 1: every limited query gets an empty TC answer.
	if r := exchange(t, "udp", addr, q); !r.Truncated || len(r.Answer) != 0 || r.Id != q.Id {
		t.Errorf("limited answer: TC %v, %d records", r.Truncated, len(r.Answer))
	}
	// TCP is not limited.
	if r := exchange(t, "tcp", addr, q); len(r.Answer) != 2 {
		t.Errorf("over TCP: %d records", len(r.Answer))
	}
	if st := s.Stats(); st.Slipped != 1 {
		t.Errorf("%d slipped, want 1", st.Slipped)
	}
}

// TestFormErr: queries that break RFC 1035's and RFC 6891's rules get
// FORMERR, as NSD answers them.
func TestFormErr(t *testing.T) {
	s := &Server{}
	zs, err := NewZones()
	if err != nil {
		t.Fatal(err)
	}
	s.SetZones(zs)
	addr := serve(t, s)
	opt := func(owner string) *dns.OPT {
		o := &dns.OPT{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeOPT}}
		o.SetUDPSize(1232)
		return o
	}
	a, _ := dns.NewRR("x.test. 60 IN A 192.0.2.1")
	for name, mod := range map[string]func(m *dns.Msg){
		"two OPT records":       func(m *dns.Msg) { m.Extra = []dns.RR{opt("."), opt(".")} },
		"an OPT not the root's": func(m *dns.Msg) { m.Extra = []dns.RR{opt("example.")} },
		"answers in a query":    func(m *dns.Msg) { m.Answer = []dns.RR{a} },
	} {
		m := new(dns.Msg)
		m.SetQuestion("x.test.", dns.TypeA)
		mod(m)
		r, err := dns.Exchange(m, addr)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.Rcode != dns.RcodeFormatError {
			t.Errorf("%s: rcode %s, want FORMERR", name, dns.RcodeToString[r.Rcode])
		}
	}
}
