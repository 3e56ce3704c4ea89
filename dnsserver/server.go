// Package dnsserver is an authoritative DNS server for zones read from
// master files, and a caching forwarder for every other name, on
// github.com/miekg/dns.
//
// Answers follow RFC 1034 and RFC 1035: NXDOMAIN and NODATA with the zone's
// SOA (RFC 2308), CNAME chains, wildcards (RFC 4592), referrals with glue
// at delegations, REFUSED for names outside the zones when there is no
// forwarder, truncation over UDP at the client's EDNS buffer size, and zone
// transfers (AXFR) to the addresses allowed. Answers to plain queries are
// kept packed, so a repeated question costs a map lookup and a copy.
package dnsserver

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// Server answers DNS queries over UDP and TCP.
type Server struct {
	// Forwarder, if not nil, answers names outside the zones; without one
	// they are REFUSED.
	Forwarder *Forwarder
	// AllowTransfer lists the clients that may transfer zones (AXFR, over
	// TCP). Empty: nobody.
	AllowTransfer []netip.Prefix
	// UDPSize is the largest UDP answer sent to EDNS clients, and the size
	// announced in the OPT record (default 1232, RFC 9715's advice).
	UDPSize uint16
	// RateLimit, if not nil, limits answers per client network
	// (response rate limiting). Off by default.
	RateLimit *RateLimiter
	// QueryLog, if not nil, is called for each query answered. It must
	// be safe for concurrent use.
	QueryLog func(Query)
	// Logger reports errors and reloads; nil discards them.
	Logger *slog.Logger
	// MaxInFlight caps the UDP queries waiting for an upstream at once.
	// Beyond it a query is answered SERVFAIL at once (its client may ask
	// another server), counted in Stats.Overloaded, and logged at most
	// once a second. Over TCP each connection waits its own turn, and the
	// connections are capped. If zero, 1024 (unbound's default per
	// thread).
	MaxInFlight int

	zones        atomic.Pointer[Zones]
	inflight     atomic.Int64
	lastOverload atomic.Int64 // unix nanoseconds of the last overload log line
	fast         fastCache
	stats        counters
}

// SetZones replaces the zones served, at once: a query sees either the old
// set or the new one.
func (s *Server) SetZones(z *Zones) {
	s.zones.Store(z)
	s.fast.flush()
}

// Zones returns the zones served.
func (s *Server) Zones() *Zones { return s.zones.Load() }

func (s *Server) udpSize() int {
	if s.UDPSize >= 512 {
		return int(s.UDPSize)
	}
	return 1232
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// ServeUDP answers queries arriving on pc until ctx ends or pc fails.
// readers goroutines read at once (at least one).
func (s *Server) ServeUDP(ctx context.Context, pc *net.UDPConn, readers int) error {
	stop := context.AfterFunc(ctx, func() { pc.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	errc := make(chan error, max(readers, 1))
	for range max(readers, 1) {
		go func() { errc <- s.udpLoop(ctx, pc) }()
	}
	var first error
	for range max(readers, 1) {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return first
}

// answerUDP answers one UDP query into out, or returns nil. A query that
// must wait for an upstream is answered later, from a goroutine of its own,
// with a write of its own on pc.
func (s *Server) answerUDP(ctx context.Context, pc *net.UDPConn, q []byte, src netip.AddrPort, start time.Time, out []byte) []byte {
	if s.RateLimit != nil {
		switch s.RateLimit.allow(src.Addr()) {
		case rrlDrop:
			s.stats.dropped.Add(1)
			return nil
		case rrlSlip:
			r := slip(q)
			if r != nil {
				s.stats.slipped.Add(1)
			}
			return r
		}
	}
	if resp, ok := s.fast.answer(q, out, start); ok {
		s.stats.fastHits.Add(1)
		s.stats.count(resp, false)
		if s.QueryLog != nil {
			s.logWire(start, src, "udp", q, resp, "fast")
		}
		return resp
	}
	if s.needsForwarder(q) {
		if n := s.inflight.Add(1); n > int64(s.maxInFlight()) {
			s.inflight.Add(-1)
			s.overloaded(src)
			return serverFailure(q)
		}
		// Upstream answers take a round trip: do not hold up the loop.
		q := append([]byte(nil), q...)
		go func() {
			defer s.inflight.Add(-1)
			if resp := s.serveWire(ctx, q, src, false, start, nil); resp != nil {
				pc.WriteToUDPAddrPort(resp, src)
			}
		}()
		return nil
	}
	return s.serveWire(ctx, q, src, false, start, out)
}

func (s *Server) maxInFlight() int {
	if s.MaxInFlight > 0 {
		return s.MaxInFlight
	}
	return 1024
}

// overloaded counts a query turned away for MaxInFlight, and logs it at
// most once a second.
func (s *Server) overloaded(src netip.AddrPort) {
	n := s.stats.overloaded.Add(1)
	now := time.Now().UnixNano()
	last := s.lastOverload.Load()
	if now-last >= int64(time.Second) && s.lastOverload.CompareAndSwap(last, now) {
		s.logger().Warn("dnsserver: too many queries waiting for upstreams; answering SERVFAIL",
			"in_flight", s.maxInFlight(), "overloaded_so_far", n, "latest_client", src)
	}
}

// needsForwarder reports whether a query may have to wait for an upstream:
// there is a forwarder and the name is in none of the zones.
func (s *Server) needsForwarder(q []byte) bool {
	if s.Forwarder == nil {
		return false
	}
	name, _, ok := questionName(q)
	if !ok {
		return true
	}
	return s.zones.Load().Find(name) == nil
}

// serveWire answers one query in wire format, appending the answer to out.
// It returns nil when nothing should be sent.
func (s *Server) serveWire(ctx context.Context, q []byte, src netip.AddrPort, tcp bool, start time.Time, out []byte) []byte {
	proto := "udp"
	if tcp {
		proto = "tcp"
	}
	m := new(dns.Msg)
	if err := m.Unpack(q); err != nil {
		r := formErr(q)
		if r != nil {
			s.stats.count(r, tcp)
			s.logWire(start, src, proto, q, r, "formerr")
		} else {
			s.stats.ignored.Add(1)
		}
		return r
	}
	if m.Response {
		s.stats.ignored.Add(1)
		return nil // never answer an answer
	}
	gen := s.fast.gen.Load()
	r, src2 := s.Answer(ctx, m, src, tcp)
	wire, err := r.PackBuffer(out[:cap(out)])
	if err != nil {
		s.logger().Error("packing an answer", "question", m.Question, "err", err)
		r = new(dns.Msg)
		r.SetRcode(m, dns.RcodeServerFailure)
		if wire, err = r.Pack(); err != nil {
			return nil
		}
	}
	s.stats.count(wire, tcp)
	if !tcp && cacheable(src2) {
		s.fast.store(q, wire, gen, src2, start)
	}
	if s.QueryLog != nil {
		s.logWire(start, src, proto, q, wire, src2.kind)
	}
	return wire
}

// source says where an answer came from, and for how long its packed form
// may be reused.
type source struct {
	kind    string // "zone", "refused", "cache", "upstream", "stale", "error"
	expires time.Time
	ttls    bool // TTLs count down
}

func cacheable(s source) bool {
	switch s.kind {
	case "zone", "refused":
		return true
	case "cache", "upstream":
		return !s.expires.IsZero()
	}
	return false
}

// Answer builds the answer to one query from src. tcp reports how the
// query came: over UDP the answer is cut to fit the client's buffer.
func (s *Server) Answer(ctx context.Context, q *dns.Msg, src netip.AddrPort, tcp bool) (*dns.Msg, source) {
	r := new(dns.Msg)
	r.SetReply(q)
	r.RecursionAvailable = s.Forwarder != nil
	r.AuthenticatedData = false
	from := source{kind: "error"}
	qopt := q.IsEdns0()
	do := qopt != nil && qopt.Do()
	finish := func() (*dns.Msg, source) {
		if qopt != nil {
			o := new(dns.OPT)
			o.Hdr.Name, o.Hdr.Rrtype = ".", dns.TypeOPT
			o.SetUDPSize(uint16(s.udpSize()))
			o.SetDo(do)
			if from.kind == "stale" {
				o.Option = append(o.Option, &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeStaleAnswer})
			}
			r.Extra = append(r.Extra, o)
		}
		if !tcp {
			size := 512
			if qopt != nil {
				size = min(max(int(qopt.UDPSize()), 512), s.udpSize())
			}
			r.Truncate(size)
		}
		return r, from
	}
	switch {
	case q.Opcode != dns.OpcodeQuery:
		r.Rcode = dns.RcodeNotImplemented
		r.Question = nil
		return finish()
	case len(q.Question) != 1, len(q.Answer) > 0, badOPT(q):
		// One question; no answers in a query; at most one OPT record,
		// owned by the root (RFC 6891 section 6.1.1). NSD answers the same.
		r.Rcode = dns.RcodeFormatError
		return finish()
	case qopt != nil && qopt.Version() != 0:
		r.Rcode = dns.RcodeBadVers // RFC 6891 section 6.1.3
		return finish()
	}
	qq := q.Question[0]
	if qq.Qclass != dns.ClassINET {
		r.Rcode = dns.RcodeRefused
		from.kind = "refused"
		return finish()
	}
	if qq.Qtype == dns.TypeAXFR || qq.Qtype == dns.TypeIXFR {
		// Transfers go over TCP (see ServeTCP); over UDP they are refused.
		r.Rcode = dns.RcodeRefused
		return finish()
	}
	if z := s.zones.Load().Find(qq.Name); z != nil {
		res := z.lookup(qq.Name, qq.Qtype, do)
		r.Authoritative = !res.referral
		r.Rcode = res.rcode
		r.Answer, r.Ns, r.Extra = res.answer, res.ns, res.extra
		from.kind = "zone"
		return finish()
	}
	if s.Forwarder == nil {
		r.Rcode = dns.RcodeRefused
		from.kind = "refused"
		return finish()
	}
	a, err := s.Forwarder.Resolve(ctx, qq.Name, qq.Qtype, do)
	if err != nil {
		s.stats.upstreamFail.Add(1)
		s.logger().Warn("no upstream answered", "name", qq.Name, "type", dns.TypeToString[qq.Qtype], "err", err)
		r.Rcode = dns.RcodeServerFailure
		return finish()
	}
	r.Rcode, r.Answer, r.Ns = a.Rcode, a.Answer, a.Ns
	r.Extra = append(r.Extra, a.Extra...)
	switch {
	case a.Stale:
		s.stats.stale.Add(1)
		from.kind = "stale"
	case a.Cached:
		s.stats.cacheHits.Add(1)
		from = source{kind: "cache", ttls: true}
	default:
		s.stats.cacheMisses.Add(1)
		from = source{kind: "upstream", ttls: true}
	}
	if from.ttls {
		if e, fresh := s.Forwarder.Cache.get(cacheKey{dns.CanonicalName(qq.Name), qq.Qtype, do}, time.Now()); fresh {
			from.expires = e.expires
		}
	}
	return finish()
}

// badOPT reports a query with more than one OPT record, or one whose
// owner is not the root.
func badOPT(q *dns.Msg) bool {
	n := 0
	for _, rr := range q.Extra {
		if rr.Header().Rrtype == dns.TypeOPT {
			n++
			if rr.Header().Name != "." {
				return true
			}
		}
	}
	return n > 1
}

// formErr answers a message that cannot be parsed, if its header can be:
// FORMERR with the query's ID and opcode (RFC 1035 section 4.1.1). A
// message too short for a header, or that is itself a response, gets
// nothing.
func formErr(q []byte) []byte {
	if len(q) < 12 || q[2]&0x80 != 0 {
		return nil
	}
	r := make([]byte, 12)
	copy(r, q[:2])
	r[2] = 0x80 | q[2]&0x79 // QR, the opcode and RD
	r[3] = dns.RcodeFormatError
	return r
}

// serverFailure is an answer of SERVFAIL to q, with its question, or nil
// when q has no readable question.
func serverFailure(q []byte) []byte {
	r := slip(q)
	if r != nil {
		r[2] &^= 0x02 // not truncated
		r[3] = dns.RcodeServerFailure
	}
	return r
}

// slip is the answer RRL sends instead of dropping every query: an empty,
// truncated reply, so a real client retries over TCP.
func slip(q []byte) []byte {
	name, end, ok := questionName(q)
	if !ok || name == "" || len(q) < end+4 {
		return nil
	}
	r := make([]byte, end+4)
	copy(r, q[:end+4])
	r[2] = 0x80 | q[2]&0x79 | 0x02 // QR, opcode, TC, RD
	r[3] = 0
	r[4], r[5] = 0, 1
	for i := 6; i < 12; i++ {
		r[i] = 0
	}
	return r
}

// Query is one line of the query log.
type Query struct {
	Time     time.Time      `json:"time"`
	Client   netip.AddrPort `json:"client"`
	Proto    string         `json:"proto"`
	ID       uint16         `json:"id"`
	Name     string         `json:"name,omitempty"`
	Type     string         `json:"type,omitempty"`
	Rcode    string         `json:"rcode"`
	Flags    string         `json:"flags,omitempty"`
	Size     int            `json:"size"`
	Source   string         `json:"source"`
	Duration time.Duration  `json:"-"`
	// Micros is Duration in microseconds, for JSON.
	Micros int64 `json:"duration_us"`
}

func (s *Server) logWire(start time.Time, src netip.AddrPort, proto string, q, r []byte, from string) {
	if s.QueryLog == nil {
		return
	}
	d := time.Since(start)
	rec := Query{Time: start, Client: src, Proto: proto, Size: len(r), Source: from, Duration: d, Micros: d.Microseconds()}
	if len(q) >= 2 {
		rec.ID = uint16(q[0])<<8 | uint16(q[1])
	}
	if name, end, ok := questionName(q); ok && len(q) >= end+2 {
		rec.Name = name
		rec.Type = dns.Type(uint16(q[end])<<8 | uint16(q[end+1])).String()
	}
	if len(r) >= 4 {
		rec.Rcode = dns.RcodeToString[int(r[3]&0x0f)]
		var fl []string
		for _, f := range []struct {
			bit  byte
			at   int
			name string
		}{{0x04, 2, "aa"}, {0x02, 2, "tc"}, {0x01, 2, "rd"}, {0x80, 3, "ra"}} {
			if r[f.at]&f.bit != 0 {
				fl = append(fl, f.name)
			}
		}
		rec.Flags = strings.Join(fl, " ")
	}
	s.QueryLog(rec)
}
