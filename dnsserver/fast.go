package dnsserver

import (
	"encoding/binary"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// The fast path: an answer to a plain query (one question, no EDNS options
// beyond the buffer size and DO) depends only on the question, the DO and
// CD bits and whether the query had EDNS. Such answers are kept packed,
// keyed by those; a repeated question is answered by copying the bytes and
// patching the ID, the RD bit, the question's letter case and, for
// forwarded answers, the TTLs.

// fastMax bounds the packed answers kept; when full, the cache starts over.
const fastMax = 1 << 16

type fastCache struct {
	mu  sync.RWMutex
	m   map[string]*packed
	gen atomic.Uint64
}

type packed struct {
	wire    []byte
	ttls    []uint16  // offsets of TTL fields that count down
	born    time.Time // when the TTLs in wire were right
	expires time.Time // zero: until the zones change
}

// plainQuery is what the fast path reads from a query.
type plainQuery struct {
	key   []byte // lower-case name, type, class, flags
	qend  int    // offset just past the question
	limit int    // the largest UDP answer the client takes
}

// parsePlain reads a plain query, or reports that q is not one. key is
// scratch space for the key.
func parsePlain(q []byte, key []byte) (plainQuery, bool) {
	var p plainQuery
	if len(q) < 17 || q[2]&0xf8 != 0 || // QR clear, opcode QUERY, not TC
		binary.BigEndian.Uint32(q[4:]) != 1<<16 || // QDCOUNT 1, ANCOUNT 0
		q[8] != 0 || q[9] != 0 || q[10] != 0 || q[11] > 1 {
		return p, false
	}
	off := 12
	key = key[:0]
	for {
		l := int(q[off])
		if l == 0 {
			off++
			break
		}
		if l > 63 || off+1+l >= len(q) || off+1+l-12 > 254 {
			return p, false
		}
		key = append(key, byte(l))
		for _, c := range q[off+1 : off+1+l] {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			key = append(key, c)
		}
		off += 1 + l
	}
	key = append(key, 0)
	if off+4 > len(q) {
		return p, false
	}
	key = append(key, q[off:off+4]...)
	off += 4
	p.qend = off
	var flags byte
	if q[3]&0x10 != 0 { // CD
		flags |= 4
	}
	p.limit = 512
	if q[11] == 1 {
		// An OPT record with no options: root name, type 41, version 0.
		if off+11 != len(q) || q[off] != 0 || binary.BigEndian.Uint16(q[off+1:]) != dns.TypeOPT ||
			q[off+6] != 0 || binary.BigEndian.Uint16(q[off+9:]) != 0 {
			return p, false
		}
		flags |= 1
		if q[off+7]&0x80 != 0 { // DO
			flags |= 2
		}
		p.limit = max(int(binary.BigEndian.Uint16(q[off+3:])), 512)
	} else if off != len(q) {
		return p, false
	}
	p.key = append(key, flags)
	return p, true
}

func (f *fastCache) flush() {
	f.mu.Lock()
	f.gen.Add(1)
	f.m = nil
	f.mu.Unlock()
}

// answer answers q from the cache into out, if it can.
func (f *fastCache) answer(q, out []byte, now time.Time) ([]byte, bool) {
	var kb [260]byte
	p, ok := parsePlain(q, kb[:0])
	if !ok {
		return nil, false
	}
	f.mu.RLock()
	e := f.m[string(p.key)]
	f.mu.RUnlock()
	if e == nil || len(e.wire) > p.limit {
		return nil, false
	}
	if !e.expires.IsZero() && !now.Before(e.expires) {
		f.mu.Lock()
		if f.m[string(p.key)] == e {
			delete(f.m, string(p.key))
		}
		f.mu.Unlock()
		return nil, false
	}
	out = append(out, e.wire...)
	out[0], out[1] = q[0], q[1]
	out[2] = out[2]&^0x01 | q[2]&0x01  // RD as asked
	copy(out[12:p.qend], q[12:p.qend]) // the question as asked, letter case too
	if len(e.ttls) > 0 {
		elapsed := uint32(now.Sub(e.born) / time.Second)
		for _, at := range e.ttls {
			t := binary.BigEndian.Uint32(out[at:])
			binary.BigEndian.PutUint32(out[at:], t-min(t, elapsed))
		}
	}
	return out, true
}

// store keeps the packed answer wire to the query q, if both are plain.
// gen is the generation the answer was computed in: an answer from zones
// that have since been replaced is not kept.
func (f *fastCache) store(q, wire []byte, gen uint64, from source, now time.Time) {
	if len(wire) < 12 || wire[2]&0x02 != 0 { // truncated
		return
	}
	var kb [260]byte
	p, ok := parsePlain(q, kb[:0])
	if !ok || len(wire) > p.limit {
		return
	}
	e := &packed{wire: append([]byte(nil), wire...), born: now, expires: from.expires}
	if from.ttls {
		var ok bool
		if e.ttls, ok = ttlOffsets(e.wire); !ok {
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gen.Load() != gen {
		return
	}
	if f.m == nil || len(f.m) >= fastMax {
		f.m = make(map[string]*packed)
	}
	f.m[string(p.key)] = e
}

// ttlOffsets finds the TTL fields of every record in a packed message, but
// the OPT record's, whose TTL field holds flags.
func ttlOffsets(m []byte) ([]uint16, bool) {
	if len(m) < 12 {
		return nil, false
	}
	qd := int(binary.BigEndian.Uint16(m[4:]))
	rrs := int(binary.BigEndian.Uint16(m[6:])) + int(binary.BigEndian.Uint16(m[8:])) + int(binary.BigEndian.Uint16(m[10:]))
	off := 12
	for range qd {
		var ok bool
		if off, ok = skipName(m, off); !ok || off+4 > len(m) {
			return nil, false
		}
		off += 4
	}
	var out []uint16
	for range rrs {
		var ok bool
		if off, ok = skipName(m, off); !ok || off+10 > len(m) {
			return nil, false
		}
		if binary.BigEndian.Uint16(m[off:]) != dns.TypeOPT {
			out = append(out, uint16(off+4))
		}
		off += 10 + int(binary.BigEndian.Uint16(m[off+8:]))
		if off > len(m) {
			return nil, false
		}
	}
	return out, off == len(m)
}

// skipName returns the offset just past the name at off.
func skipName(m []byte, off int) (int, bool) {
	for off < len(m) {
		l := int(m[off])
		switch {
		case l == 0:
			return off + 1, true
		case l&0xc0 == 0xc0:
			return off + 2, off+2 <= len(m)
		case l&0xc0 != 0:
			return 0, false
		}
		off += 1 + l
	}
	return 0, false
}

// questionName returns the name in a query's question, in presentation
// form, and the offset just past it. It does not follow compression.
func questionName(q []byte) (string, int, bool) {
	if len(q) < 13 || binary.BigEndian.Uint16(q[4:]) == 0 {
		return "", 0, false
	}
	var b strings.Builder
	off := 12
	for {
		if off >= len(q) {
			return "", 0, false
		}
		l := int(q[off])
		if l == 0 {
			off++
			break
		}
		if l > 63 || off+1+l > len(q) || b.Len() > 1024 {
			return "", 0, false
		}
		for _, c := range q[off+1 : off+1+l] {
			switch {
			case c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';' || c == '@' || c == '$':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < '!' || c > '~':
				b.WriteByte('\\')
				b.WriteByte('0' + c/100)
				b.WriteByte('0' + c/10%10)
				b.WriteByte('0' + c%10)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('.')
		off += 1 + l
	}
	if b.Len() == 0 {
		return ".", off, true
	}
	return b.String(), off, true
}

// counters are the server's statistics.
type counters struct {
	udp, tcp                  atomic.Uint64
	rcodes                    [16]atomic.Uint64
	truncated                 atomic.Uint64
	fastHits                  atomic.Uint64
	cacheHits, cacheMisses    atomic.Uint64
	stale, upstreamFail       atomic.Uint64
	dropped, slipped, ignored atomic.Uint64
	transfers                 atomic.Uint64
	transfersRefused          atomic.Uint64
	overloaded                atomic.Uint64
}

// count records an answer sent.
func (c *counters) count(resp []byte, tcp bool) {
	if len(resp) < 4 {
		return
	}
	if tcp {
		c.tcp.Add(1)
	} else {
		c.udp.Add(1)
	}
	c.rcodes[resp[3]&0x0f].Add(1)
	if resp[2]&0x02 != 0 {
		c.truncated.Add(1)
	}
}

// Stats are a server's counters.
type Stats struct {
	// Answers sent over UDP and TCP, by rcode.
	UDP, TCP uint64
	Rcodes   map[string]uint64
	// Truncated answers (TC set).
	Truncated uint64
	// FastHits were answered from packed answers.
	FastHits uint64
	// CacheHits, CacheMisses and Stale count forwarded questions.
	CacheHits, CacheMisses, Stale uint64
	// UpstreamFailures are questions no upstream answered.
	UpstreamFailures uint64
	// Dropped and Slipped count rate-limited queries.
	Dropped, Slipped uint64
	// Ignored are messages not answered: responses, or too short.
	Ignored uint64
	// Transfers and TransfersRefused count AXFR requests.
	Transfers, TransfersRefused uint64
	// Overloaded counts queries answered SERVFAIL because MaxInFlight
	// queries were already waiting for upstreams.
	Overloaded uint64
	// UpstreamFull counts the times an upstream was passed over because
	// it had Forwarder.MaxPerUpstream queries waiting.
	UpstreamFull uint64
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	st := Stats{
		UDP: c.udp.Load(), TCP: c.tcp.Load(), Rcodes: map[string]uint64{},
		Truncated: c.truncated.Load(), FastHits: c.fastHits.Load(),
		CacheHits: c.cacheHits.Load(), CacheMisses: c.cacheMisses.Load(), Stale: c.stale.Load(),
		UpstreamFailures: c.upstreamFail.Load(),
		Dropped:          c.dropped.Load(), Slipped: c.slipped.Load(), Ignored: c.ignored.Load(),
		Transfers: c.transfers.Load(), TransfersRefused: c.transfersRefused.Load(),
		Overloaded: c.overloaded.Load(),
	}
	if s.Forwarder != nil {
		st.UpstreamFull = s.Forwarder.Saturated()
	}
	for i := range c.rcodes {
		if n := c.rcodes[i].Load(); n > 0 {
			st.Rcodes[dns.RcodeToString[i]] = n
		}
	}
	return st
}
