package dnsserver

import (
	"net/netip"
	"sync"
	"time"
)

// RateLimiter limits the answers sent to each client network (a /24 for
// IPv4, a /56 for IPv6) with a token bucket, so the server cannot be used
// to flood a spoofed victim with answers. Queries over the limit are
// dropped, but every Slip-th gets an empty truncated answer, which sends a
// real client to TCP, where no limit applies.
type RateLimiter struct {
	// Rate is the answers per second allowed per client network.
	Rate float64
	// Burst is how many answers may go at once (default Rate).
	Burst float64
	// Slip: one limited query in Slip gets a truncated answer; 0 drops
	// them all (default 2, as BIND and Knot do).
	Slip int

	now func() time.Time

	mu      sync.Mutex
	buckets map[netip.Prefix]*bucket
	swept   time.Time
}

type bucket struct {
	tokens  float64
	last    time.Time
	limited int
}

type rrlAction int

const (
	rrlAllow rrlAction = iota
	rrlDrop
	rrlSlip
)

// NewRateLimiter limits each client network to rate answers per second.
func NewRateLimiter(rate float64) *RateLimiter {
	return &RateLimiter{Rate: rate, Burst: rate, Slip: 2}
}

func (l *RateLimiter) allow(a netip.Addr) rrlAction {
	now := time.Now()
	if l.now != nil {
		now = l.now()
	}
	a = a.Unmap()
	bits := 24
	if a.Is6() {
		bits = 56
	}
	p, _ := a.Prefix(bits)
	burst := l.Burst
	if burst <= 0 {
		burst = l.Rate
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[netip.Prefix]*bucket{}
	}
	if now.Sub(l.swept) > time.Minute {
		// Forget networks that have been quiet long enough to refill.
		for k, b := range l.buckets {
			if now.Sub(b.last).Seconds()*l.Rate >= burst {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[p]
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		l.buckets[p] = b
	}
	b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*l.Rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return rrlAllow
	}
	b.limited++
	if l.Slip > 0 && b.limited%l.Slip == 0 {
		return rrlSlip
	}
	return rrlDrop
}
