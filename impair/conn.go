package impair

import (
	"net"
	"sync"
	"time"
)

// Conn is a net.PacketConn whose writes cross an impaired link: each
// datagram written is lost, delayed, duplicated or corrupted as the
// faults say, and sent on the inner connection when the clock reaches its
// time. Reads are the inner connection's. Wrap both ends to impair both
// directions.
type Conn struct {
	net.PacketConn
	clock Clock
	start time.Time

	mu   sync.Mutex
	link *Link
	log  func(Decision)
}

// NewConn wraps pc. With a VirtualClock, nothing is sent until the test
// advances the clock, so every run is the same.
func NewConn(pc net.PacketConn, f Faults, seed uint64, clock Clock) *Conn {
	return &Conn{PacketConn: pc, clock: clock, start: clock.Now(), link: NewLink(f, seed)}
}

// OnDecision has fn told of every decision, in order.
func (c *Conn) OnDecision(fn func(Decision)) {
	c.mu.Lock()
	c.log = fn
	c.mu.Unlock()
}

// WriteTo takes p for addr. Like UDP it reports success whatever becomes
// of the datagram.
func (c *Conn) WriteTo(p []byte, addr net.Addr) (int, error) {
	buf := append([]byte(nil), p...)
	now := c.clock.Now()
	c.mu.Lock()
	d := c.link.Decide(buf, now.Sub(c.start))
	log := c.log
	c.mu.Unlock()
	if log != nil {
		log(d)
	}
	for _, delay := range d.Delays {
		c.clock.Schedule(now.Add(delay), func() { c.PacketConn.WriteTo(buf, addr) })
	}
	return len(p), nil
}

// Counters returns what the link has done so far.
func (c *Conn) Counters() Counters {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.link.Counters()
}
