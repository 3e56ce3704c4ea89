package dnsserver

import (
	"container/list"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Cache holds upstream answers, positive and negative (RFC 2308), for a
// caching forwarder. TTLs count down: an answer read from the cache carries
// what is left of each record's TTL. It is safe for concurrent use.
type Cache struct {
	// Size is the most answers kept; the least recently used goes first.
	Size int
	// MaxTTL caps how long a positive answer is kept (default one day).
	MaxTTL time.Duration
	// MaxNegTTL caps how long a negative answer is kept (default three
	// hours, as RFC 2308 section 5 suggests).
	MaxNegTTL time.Duration
	// Stale is how long past expiry an entry is kept for serve-stale
	// (RFC 8767); zero drops entries when they expire.
	Stale time.Duration

	now func() time.Time // for tests

	mu  sync.Mutex
	m   map[cacheKey]*list.Element
	lru list.List
}

type cacheKey struct {
	name  string // lower case
	qtype uint16
	do    bool
}

// cached is one upstream answer, sanitised.
type cached struct {
	key     cacheKey
	rcode   int
	answer  []dns.RR
	ns      []dns.RR
	extra   []dns.RR // a referral's glue
	stored  time.Time
	expires time.Time
}

func (c *Cache) clock() time.Time {
	if c != nil && c.now != nil {
		return c.now()
	}
	return time.Now()
}

// limit is how long an answer may be kept: MaxTTL, or MaxNegTTL for a
// negative one, or their defaults (also for a nil cache, whose answers
// still go to clients with capped TTLs).
func (c *Cache) limit(negative bool) time.Duration {
	switch {
	case negative && c != nil && c.MaxNegTTL > 0:
		return c.MaxNegTTL
	case negative:
		return 3 * time.Hour
	case c != nil && c.MaxTTL > 0:
		return c.MaxTTL
	}
	return 24 * time.Hour
}

// put stores an answer. ttl is how long it stays fresh, already capped.
func (c *Cache) put(e *cached) {
	if c == nil || c.Size <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[cacheKey]*list.Element{}
	}
	if el := c.m[e.key]; el != nil {
		el.Value = e
		c.lru.MoveToFront(el)
		return
	}
	c.m[e.key] = c.lru.PushFront(e)
	for c.lru.Len() > c.Size {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.m, old.Value.(*cached).key)
	}
}

// get returns the entry for k, whether it is still fresh, and the whole
// seconds since it was stored. An entry past its stale window is dropped.
func (c *Cache) get(k cacheKey, now time.Time) (e *cached, fresh bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.m[k]
	if el == nil {
		return nil, false
	}
	e = el.Value.(*cached)
	if now.Before(e.expires) {
		c.lru.MoveToFront(el)
		return e, true
	}
	if now.Before(e.expires.Add(c.Stale)) {
		return e, false
	}
	c.lru.Remove(el)
	delete(c.m, k)
	return nil, false
}

// Len returns the number of entries.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// records returns copies of rrs with the elapsed time taken off their TTLs
// (never below floor).
func records(rrs []dns.RR, elapsed uint32, floor uint32) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		rr = dns.Copy(rr)
		h := rr.Header()
		if h.Ttl > elapsed && h.Ttl-elapsed > floor {
			h.Ttl -= elapsed
		} else {
			h.Ttl = floor
		}
		out[i] = rr
	}
	return out
}
