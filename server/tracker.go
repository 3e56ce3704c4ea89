package server

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Tracker is the bookkeeping that every engine shares: admission by the
// limits and the filter, the counters, the events and the log lines. An
// engine calls Admit for each accepted connection and Done when it closes.
type Tracker struct {
	cfg *Config

	nextID   atomic.Uint64
	active   atomic.Int64
	accepted atomic.Uint64
	rejected atomic.Uint64
	in, out  atomic.Uint64

	mu      sync.Mutex
	perIP   map[netip.Addr]int
	waiters []chan struct{} // WaitIdle's, closed when active drops to 0
}

// NewTracker returns a Tracker for cfg, which it keeps and reads.
func NewTracker(cfg *Config) *Tracker {
	return &Tracker{cfg: cfg, perIP: map[netip.Addr]int{}}
}

// Admit decides whether to serve a connection from remote. It returns the
// connection's ID and true, or false after counting, logging and reporting
// the rejection. Every admitted connection must be passed to Done.
func (t *Tracker) Admit(remote, local netip.AddrPort) (uint64, bool) {
	reject := func(reason string) (uint64, bool) {
		t.rejected.Add(1)
		if l := t.cfg.Logger; l != nil {
			l.Warn("rejected", "remote", remote, "reason", reason)
		}
		if t.cfg.Events != nil {
			t.cfg.Events(Event{Kind: EventRejected, Remote: remote, Local: local, Reason: reason})
		}
		return 0, false
	}
	if f := t.cfg.Filter; f != nil {
		if err := f(remote); err != nil {
			return reject(err.Error())
		}
	}
	if n := t.active.Add(1); t.cfg.MaxConns > 0 && n > int64(t.cfg.MaxConns) {
		t.active.Add(-1)
		return reject(fmt.Sprintf("%d connections open, the most allowed (MaxConns)", t.cfg.MaxConns))
	}
	if limit := t.cfg.MaxConnsPerIP; limit > 0 {
		ip := remote.Addr().Unmap()
		t.mu.Lock()
		n := t.perIP[ip]
		if n >= limit {
			t.mu.Unlock()
			t.active.Add(-1)
			return reject(fmt.Sprintf("%d connections open from %s, the most allowed (MaxConnsPerIP)", n, ip))
		}
		t.perIP[ip] = n + 1
		t.mu.Unlock()
	}
	t.accepted.Add(1)
	id := t.nextID.Add(1)
	if l := t.cfg.Logger; l != nil {
		l.Debug("accepted", "id", id, "remote", remote)
	}
	if t.cfg.Events != nil {
		t.cfg.Events(Event{Kind: EventAccepted, ID: id, Remote: remote, Local: local})
	}
	return id, true
}

// AddIn counts bytes read from a peer.
func (t *Tracker) AddIn(n int) { t.in.Add(uint64(n)) }

// AddOut counts bytes written to a peer.
func (t *Tracker) AddOut(n int) { t.out.Add(uint64(n)) }

// Done records that an admitted connection has closed.
func (t *Tracker) Done(id uint64, remote, local netip.AddrPort, in, out uint64, d time.Duration, err error) {
	if t.active.Add(-1) == 0 {
		t.mu.Lock()
		for _, w := range t.waiters {
			close(w)
		}
		t.waiters = nil
		t.mu.Unlock()
	}
	if t.cfg.MaxConnsPerIP > 0 {
		ip := remote.Addr().Unmap()
		t.mu.Lock()
		if t.perIP[ip]--; t.perIP[ip] <= 0 {
			delete(t.perIP, ip)
		}
		t.mu.Unlock()
	}
	if l := t.cfg.Logger; l != nil {
		l.Debug("closed", "id", id, "remote", remote, "in", in, "out", out, "duration", d, "err", err)
	}
	if t.cfg.Events != nil {
		t.cfg.Events(Event{Kind: EventClosed, ID: id, Remote: remote, Local: local, BytesIn: in, BytesOut: out, Duration: d, Err: err})
	}
}

// WaitIdle waits until no admitted connection is open, or ctx ends.
func (t *Tracker) WaitIdle(ctx context.Context) error {
	t.mu.Lock()
	if t.active.Load() == 0 {
		t.mu.Unlock()
		return nil
	}
	w := make(chan struct{})
	t.waiters = append(t.waiters, w)
	t.mu.Unlock()
	select {
	case <-w:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns the counters now.
func (t *Tracker) Stats() Stats {
	return Stats{
		Accepted: t.accepted.Load(),
		Active:   t.active.Load(),
		Rejected: t.rejected.Load(),
		BytesIn:  t.in.Load(),
		BytesOut: t.out.Load(),
	}
}

// AddrPort returns the address and port of a socket address, or the zero
// value for addresses without them (Unix sockets).
func AddrPort(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort()
	case *net.UDPAddr:
		return a.AddrPort()
	}
	return netip.AddrPort{}
}
