package impair

import (
	"container/heap"
	"sync"
	"time"
)

// Clock tells the time and runs funcs at a time to come. Funcs due at the
// same time run in the order they were scheduled.
type Clock interface {
	Now() time.Time
	Schedule(at time.Time, f func())
}

type event struct {
	at  time.Time
	seq uint64
	f   func()
}

type events []event

func (h events) Len() int { return len(h) }
func (h events) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h events) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *events) Push(x any)   { *h = append(*h, x.(event)) }
func (h *events) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// RealClock runs scheduled funcs on one goroutine of its own, in time
// order, at the wall clock's times. Close stops it; funcs not yet due are
// dropped.
type RealClock struct {
	mu     sync.Mutex
	q      events
	seq    uint64
	wake   chan struct{}
	done   chan struct{}
	closed bool
}

// NewRealClock starts a clock.
func NewRealClock() *RealClock {
	c := &RealClock{wake: make(chan struct{}, 1), done: make(chan struct{})}
	go c.run()
	return c
}

// Now is time.Now.
func (c *RealClock) Now() time.Time { return time.Now() }

// Schedule runs f at at, or at once if at has passed.
func (c *RealClock) Schedule(at time.Time, f func()) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.seq++
	heap.Push(&c.q, event{at, c.seq, f})
	first := c.q[0].seq == c.seq
	c.mu.Unlock()
	if first {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// Close stops the clock.
func (c *RealClock) Close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.done)
	}
	c.mu.Unlock()
}

func (c *RealClock) run() {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		c.mu.Lock()
		var due []func()
		now := time.Now()
		for len(c.q) > 0 && !c.q[0].at.After(now) {
			due = append(due, heap.Pop(&c.q).(event).f)
		}
		wait := time.Hour
		if len(c.q) > 0 {
			wait = c.q[0].at.Sub(now)
		}
		c.mu.Unlock()
		for _, f := range due {
			f()
		}
		if len(due) > 0 {
			continue
		}
		t.Reset(wait)
		select {
		case <-c.done:
			return
		case <-c.wake:
		case <-t.C:
		}
	}
}

// VirtualClock is a clock that moves only when told to, for tests that
// must give the same result on every run: Advance runs, in order, every
// func that falls due.
type VirtualClock struct {
	mu  sync.Mutex
	now time.Time
	q   events
	seq uint64
}

// NewVirtualClock returns a clock stopped at start.
func NewVirtualClock(start time.Time) *VirtualClock { return &VirtualClock{now: start} }

// Now is the clock's time.
func (c *VirtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Schedule runs f when the clock reaches at.
func (c *VirtualClock) Schedule(at time.Time, f func()) {
	c.mu.Lock()
	c.seq++
	heap.Push(&c.q, event{at, c.seq, f})
	c.mu.Unlock()
}

// Advance moves the clock on by d, running the funcs that fall due, each
// with the clock at its time.
func (c *VirtualClock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	for len(c.q) > 0 && !c.q[0].at.After(end) {
		e := heap.Pop(&c.q).(event)
		c.now = e.at
		c.mu.Unlock()
		e.f()
		c.mu.Lock()
	}
	c.now = end
	c.mu.Unlock()
}

// Pending counts the funcs waiting.
func (c *VirtualClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.q)
}
