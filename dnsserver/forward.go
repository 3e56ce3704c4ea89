package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/netkit-dev/netkit/dnsclient"
)

// Forwarder answers names outside the server's zones by asking upstream
// servers, and caches what they say.
type Forwarder struct {
	// Upstreams are asked in turn; the last one that answered is asked
	// first next time (failover). They are fixed once Resolve is called.
	Upstreams []dnsclient.Server
	// Timeout bounds one upstream exchange (default 2s).
	Timeout time.Duration
	// Cache, if not nil, keeps answers for their TTLs.
	Cache *Cache
	// MaxPerUpstream caps the queries waiting for one upstream (default
	// 256): one that does not answer cannot hold more than that, and
	// questions go on to the next upstream while it is full, or fail
	// (SERVFAIL, or a stale answer) when all are.
	MaxPerUpstream int

	preferred atomic.Int32
	busyOnce  sync.Once
	busy      []atomic.Int32
	saturated atomic.Uint64

	mu       sync.Mutex
	inflight map[cacheKey]*call
}

// call is one upstream resolution that several identical queries wait on.
type call struct {
	done chan struct{}
	e    *cached
	err  error
}

// Answer is what the forwarder says about a question.
type Answer struct {
	Rcode  int
	Answer []dns.RR
	Ns     []dns.RR
	// Extra holds the glue of a referral passed on: addresses of its name
	// servers that lie inside the zone it delegates.
	Extra []dns.RR
	// Cached reports an answer from the cache; Stale one served past its
	// TTL because no upstream answered (RFC 8767).
	Cached, Stale bool
	// Upstream is the server that answered, when one was asked.
	Upstream string
}

// staleTTL is the TTL of records served stale (RFC 8767 section 4).
const staleTTL = 30

// Resolve answers qname/qtype from the cache or the upstreams.
func (f *Forwarder) Resolve(ctx context.Context, qname string, qtype uint16, do bool) (*Answer, error) {
	k := cacheKey{name: dns.CanonicalName(qname), qtype: qtype, do: do}
	now := f.Cache.clock()
	old, fresh := f.Cache.get(k, now)
	if fresh {
		return f.fromCache(old, now, false), nil
	}
	e, upstream, err := f.resolveShared(ctx, k, qname)
	if err != nil {
		if old != nil {
			return f.fromCache(old, now, true), nil
		}
		return nil, err
	}
	return &Answer{Rcode: e.rcode, Answer: records(e.answer, 0, 0), Ns: records(e.ns, 0, 0), Extra: records(e.extra, 0, 0), Upstream: upstream}, nil
}

func (f *Forwarder) fromCache(e *cached, now time.Time, stale bool) *Answer {
	elapsed := uint32(now.Sub(e.stored) / time.Second)
	floor := uint32(0)
	if stale {
		elapsed, floor = ^uint32(0), staleTTL
	}
	return &Answer{Rcode: e.rcode, Answer: records(e.answer, elapsed, floor), Ns: records(e.ns, elapsed, floor),
		Extra: records(e.extra, elapsed, floor), Cached: true, Stale: stale}
}

// resolveShared makes one upstream query for any number of identical
// questions asked at once.
func (f *Forwarder) resolveShared(ctx context.Context, k cacheKey, qname string) (*cached, string, error) {
	f.mu.Lock()
	if c := f.inflight[k]; c != nil {
		f.mu.Unlock()
		select {
		case <-c.done:
			return c.e, "", c.err
		case <-ctx.Done():
			return nil, "", ctx.Err()
		}
	}
	if f.inflight == nil {
		f.inflight = map[cacheKey]*call{}
	}
	c := &call{done: make(chan struct{})}
	f.inflight[k] = c
	f.mu.Unlock()

	var upstream string
	c.e, upstream, c.err = f.ask(ctx, k, qname)
	f.mu.Lock()
	delete(f.inflight, k)
	f.mu.Unlock()
	close(c.done)
	return c.e, upstream, c.err
}

// ask sends the question to the upstreams, the preferred one first, until
// one gives a usable answer, then sanitises and caches it.
func (f *Forwarder) ask(ctx context.Context, k cacheKey, qname string) (*cached, string, error) {
	if len(f.Upstreams) == 0 {
		return nil, "", errors.New("no upstream servers")
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	var errs []error
	f.initBusy()
	limit := int32(f.MaxPerUpstream)
	if limit <= 0 {
		limit = 256
	}
	first := int(f.preferred.Load())
	for i := range f.Upstreams {
		idx := (first + i) % len(f.Upstreams)
		u := f.Upstreams[idx]
		if f.busy[idx].Add(1) > limit {
			f.busy[idx].Add(-1)
			f.saturated.Add(1)
			errs = append(errs, fmt.Errorf("%s has %d queries waiting already (the per-upstream cap)", u, limit))
			continue
		}
		// A fresh client per query: miekg/dns dials a new UDP socket, so
		// every query leaves from a new random port, with a random ID.
		c := &dnsclient.Client{Servers: []dnsclient.Server{u}, Timeout: timeout, Attempts: 1, DNSSEC: k.do}
		q := c.NewQuery(qname, k.qtype)
		a, err := c.Exchange(ctx, q)
		f.busy[idx].Add(-1)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r := a.Msg
		if r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
			errs = append(errs, fmt.Errorf("%s answered %s", u, dns.RcodeToString[r.Rcode]))
			continue
		}
		f.preferred.Store(int32(idx))
		e := sanitize(k, r)
		e.stored = f.Cache.clock()
		limit := f.Cache.limit(e.negative())
		capTTLs(e, limit)
		ttl := min(e.ttl(), limit)
		e.expires = e.stored.Add(ttl)
		if ttl > 0 {
			f.Cache.put(e)
		}
		return e, u.String(), nil
	}
	return nil, "", errors.Join(errs...)
}

// sanitize keeps what the answer may say about the question: the answer
// section's chain of CNAMEs (and DNAMEs) from the name asked to records of
// the type asked, for a negative answer the SOA of a zone that holds the
// name, and for a referral the NS records of a zone above the name.
// Everything else, the additional section included, is dropped: records
// out of bailiwick never reach the cache.
func sanitize(k cacheKey, r *dns.Msg) *cached {
	e := &cached{key: k, rcode: r.Rcode}
	cur := k.name
	seen := map[string]bool{}
	for !seen[cur] {
		seen[cur] = true
		next := ""
		for _, rr := range r.Answer {
			h := rr.Header()
			owner := dns.CanonicalName(h.Name)
			switch {
			case owner == cur && (h.Rrtype == k.qtype || k.qtype == dns.TypeANY):
				e.answer = append(e.answer, rr)
			case owner == cur && h.Rrtype == dns.TypeRRSIG:
				e.answer = append(e.answer, rr)
			case owner == cur && h.Rrtype == dns.TypeCNAME:
				e.answer = append(e.answer, rr)
				next = dns.CanonicalName(rr.(*dns.CNAME).Target)
			case h.Rrtype == dns.TypeDNAME && owner != cur && dns.IsSubDomain(owner, cur):
				e.answer = append(e.answer, rr)
			}
		}
		if next == "" {
			break
		}
		cur = next
	}
	if len(e.answer) == 0 || r.Rcode == dns.RcodeNameError {
		// The SOA must be that of a zone holding the name; the denial
		// records (NSEC, NSEC3, RRSIG) must be inside that zone.
		zone := ""
		for _, rr := range r.Ns {
			if h := rr.Header(); h.Rrtype == dns.TypeSOA && dns.IsSubDomain(dns.CanonicalName(h.Name), cur) {
				zone = dns.CanonicalName(h.Name)
				break
			}
		}
		if zone == "" && r.Rcode == dns.RcodeSuccess {
			// No SOA and no answer: a referral (an upstream that does not
			// recurse). Pass its NS records on, those that own a zone above
			// the name, rather than an empty NOERROR.
			// Glue: addresses of those name servers, only where they lie
			// inside the zone delegated (an address for a name elsewhere
			// is not the upstream's to give).
			glue := map[string]string{} // name server -> its zone
			for _, rr := range r.Ns {
				h := rr.Header()
				if h.Rrtype == dns.TypeNS && dns.IsSubDomain(dns.CanonicalName(h.Name), cur) {
					e.ns = append(e.ns, rr)
					glue[dns.CanonicalName(rr.(*dns.NS).Ns)] = dns.CanonicalName(h.Name)
				}
			}
			for _, rr := range r.Extra {
				h := rr.Header()
				owner := dns.CanonicalName(h.Name)
				if zone, ok := glue[owner]; ok && (h.Rrtype == dns.TypeA || h.Rrtype == dns.TypeAAAA) && dns.IsSubDomain(zone, owner) {
					e.extra = append(e.extra, rr)
				}
			}
		}
		for _, rr := range r.Ns {
			h := rr.Header()
			if zone == "" || !dns.IsSubDomain(zone, dns.CanonicalName(h.Name)) {
				continue
			}
			switch h.Rrtype {
			case dns.TypeSOA, dns.TypeNSEC, dns.TypeNSEC3, dns.TypeRRSIG:
				e.ns = append(e.ns, rr)
			}
		}
	}
	return e
}

func (e *cached) soa() *dns.SOA {
	for _, rr := range e.ns {
		if s, ok := rr.(*dns.SOA); ok {
			return s
		}
	}
	return nil
}

func (e *cached) negative() bool {
	return e.rcode == dns.RcodeNameError || !e.hasAnswer()
}

// hasAnswer reports whether the chain ends in records of the type asked.
func (e *cached) hasAnswer() bool {
	for _, rr := range e.answer {
		t := rr.Header().Rrtype
		if t == e.key.qtype || e.key.qtype == dns.TypeANY && t != dns.TypeCNAME {
			return true
		}
	}
	return false
}

// ttl is how long the answer may be cached: the lowest TTL of its records,
// or for a negative answer min(SOA TTL, SOA MINIMUM) (RFC 2308 section 5).
// A negative answer without an SOA is not cached.
func (e *cached) ttl() time.Duration {
	var t uint32 = ^uint32(0)
	if e.negative() {
		soa := e.soa()
		if soa == nil {
			return 0
		}
		t = min(soa.Hdr.Ttl, soa.Minttl)
	}
	for _, rr := range e.answer {
		t = min(t, rr.Header().Ttl)
	}
	if t == ^uint32(0) {
		return 0
	}
	return time.Duration(t) * time.Second
}

// capTTLs lowers TTLs above limit, so no client holds a record longer
// than the cache would, and gives the SOA of a negative answer the
// negative TTL, min(SOA TTL, MINIMUM) (RFC 2308 section 5).
func capTTLs(e *cached, limit time.Duration) {
	max := uint32(limit / time.Second)
	for _, rr := range append(e.answer[:len(e.answer):len(e.answer)], e.ns...) {
		h := rr.Header()
		if soa, ok := rr.(*dns.SOA); ok && e.negative() {
			h.Ttl = min(h.Ttl, soa.Minttl)
		}
		h.Ttl = min(h.Ttl, max)
	}
}

// String describes the forwarder for logs.
func (f *Forwarder) initBusy() {
	f.busyOnce.Do(func() { f.busy = make([]atomic.Int32, len(f.Upstreams)) })
}

// waiting counts the queries waiting for upstream idx.
func (f *Forwarder) waiting(idx int) int32 {
	f.initBusy()
	return f.busy[idx].Load()
}

// Saturated counts the times an upstream was skipped because it had
// MaxPerUpstream queries waiting.
func (f *Forwarder) Saturated() uint64 { return f.saturated.Load() }

func (f *Forwarder) String() string {
	names := make([]string, len(f.Upstreams))
	for i, u := range f.Upstreams {
		names[i] = u.String()
	}
	return strings.Join(names, ", ")
}
