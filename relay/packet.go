package relay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netkit-dev/netkit/server"
)

// PacketForwarder forwards datagrams. Each client address gets a session:
// a socket of its own connected to the target, so replies find their way
// back to the client that caused them. Sessions that carry nothing for
// IdleTimeout are forgotten.
type PacketForwarder struct {
	// Dial opens a connected datagram socket to the target.
	Dial func(ctx context.Context) (net.Conn, error)
	// IdleTimeout forgets a session after this long without a datagram
	// either way. If zero, 60s.
	IdleTimeout time.Duration
	// MaxSessions caps the sessions at once, each of which holds a socket;
	// datagrams from new clients beyond it are dropped, counted, and
	// reported as rejected. If zero, 4096; negative, no cap.
	MaxSessions int
	// Filter, if set, is asked about each new client; an error drops its
	// datagrams.
	Filter func(client netip.AddrPort) error
	// Logger logs sessions and drops. If nil, nothing is logged.
	Logger interface {
		Debug(msg string, args ...any)
		Warn(msg string, args ...any)
	}
	// Events, if set, is told of each session: accepted (a new client),
	// rejected (each datagram dropped by the filter or the cap), and
	// closed (idle, or at shutdown) with the bytes each way and its
	// length. It must not block.
	Events func(server.Event)

	mu       sync.Mutex
	sessions map[netip.AddrPort]*session
	stats    PacketStats
	closed   bool
	pcs      map[net.PacketConn]struct{}
	lastWarn atomic.Int64
}

// PacketStats counts a PacketForwarder's work.
type PacketStats struct {
	Sessions   int    // sessions open now
	Opened     uint64 // sessions opened in all
	Dropped    uint64 // datagrams dropped by the filter or the cap
	ToTarget   uint64 // datagrams forwarded to the target
	FromTarget uint64 // datagrams forwarded back to clients
}

type session struct {
	client netip.AddrPort
	up     net.Conn
	last   atomic.Int64
	start  time.Time
	id     uint64
	in     atomic.Uint64 // bytes from the client
	out    atomic.Uint64 // bytes back to it
}

func (f *PacketForwarder) maxSessions() int {
	switch {
	case f.MaxSessions > 0:
		return f.MaxSessions
	case f.MaxSessions < 0:
		return int(^uint(0) >> 1)
	}
	return 4096
}

func (f *PacketForwarder) event(e server.Event) {
	if f.Events != nil {
		f.Events(e)
	}
}

// ended reports a session's end.
func (f *PacketForwarder) ended(s *session, why error) {
	f.event(server.Event{Kind: server.EventClosed, ID: s.id, Remote: s.client, BytesIn: s.in.Load(), BytesOut: s.out.Load(), Duration: time.Since(s.start), Err: why})
}

func (f *PacketForwarder) idle() time.Duration {
	if f.IdleTimeout > 0 {
		return f.IdleTimeout
	}
	return 60 * time.Second
}

// Stats returns the counters.
func (f *PacketForwarder) Stats() PacketStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.stats
	st.Sessions = len(f.sessions)
	return st
}

// Serve forwards the datagrams that arrive on pc until Shutdown (it
// returns nil) or ctx ends (it returns ctx.Err()). It closes pc. pc must be
// a *net.UDPConn.
func (f *PacketForwarder) Serve(ctx context.Context, pc net.PacketConn) error {
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		pc.Close()
		return errors.New("relay: PacketForwarder serves *net.UDPConn sockets")
	}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		pc.Close()
		return errors.New("relay: Serve called after Shutdown")
	}
	if f.sessions == nil {
		f.sessions = map[netip.AddrPort]*session{}
		f.pcs = map[net.PacketConn]struct{}{}
	}
	f.pcs[pc] = struct{}{}
	f.mu.Unlock()

	stop := context.AfterFunc(ctx, func() { pc.Close() })
	defer stop()
	janitorDone := make(chan struct{})
	defer close(janitorDone)
	go f.janitor(janitorDone)

	var wg sync.WaitGroup
	defer wg.Wait()
	defer f.closeSessions()
	buf := make([]byte, 65535)
	for {
		n, from, err := uc.ReadFromUDPAddrPort(buf)
		if err != nil {
			f.mu.Lock()
			closed := f.closed
			f.mu.Unlock()
			switch {
			case closed:
				return nil
			case ctx.Err() != nil:
				return ctx.Err()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		s, err := f.session(ctx, uc, from, &wg)
		if err != nil {
			f.drop(from, err)
			continue
		}
		s.last.Store(time.Now().UnixNano())
		if _, err := s.up.Write(buf[:n]); err == nil {
			s.in.Add(uint64(n))
			f.mu.Lock()
			f.stats.ToTarget++
			f.mu.Unlock()
		}
	}
}

func (f *PacketForwarder) drop(from netip.AddrPort, why error) {
	f.mu.Lock()
	f.stats.Dropped++
	f.mu.Unlock()
	// One warning a second at most: a flood must not become a flood of
	// log lines.
	now := time.Now().UnixNano()
	if last := f.lastWarn.Load(); f.Logger != nil && now-last >= int64(time.Second) && f.lastWarn.CompareAndSwap(last, now) {
		f.Logger.Warn("dropped datagram", "client", from, "reason", why, "dropped_so_far", f.Stats().Dropped)
	}
	f.event(server.Event{Kind: server.EventRejected, Remote: from, Reason: why.Error()})
}

// session finds or opens the session of a client.
func (f *PacketForwarder) session(ctx context.Context, uc *net.UDPConn, client netip.AddrPort, wg *sync.WaitGroup) (*session, error) {
	f.mu.Lock()
	s := f.sessions[client]
	n := len(f.sessions)
	f.mu.Unlock()
	if s != nil {
		return s, nil
	}
	if f.Filter != nil {
		if err := f.Filter(client); err != nil {
			return nil, err
		}
	}
	if n >= f.maxSessions() {
		return nil, fmt.Errorf("%d sessions open, the most allowed", n)
	}
	up, err := f.Dial(ctx)
	if err != nil {
		return nil, err
	}
	s = &session{client: client, up: up, start: time.Now()}
	s.last.Store(time.Now().UnixNano())
	f.mu.Lock()
	f.sessions[client] = s
	f.stats.Opened++
	s.id = f.stats.Opened
	f.mu.Unlock()
	f.event(server.Event{Kind: server.EventAccepted, ID: s.id, Remote: client})
	if f.Logger != nil {
		f.Logger.Debug("session opened", "client", client, "upstream", up.LocalAddr())
	}
	wg.Go(func() { f.replies(uc, s) })
	return s, nil
}

// replies sends the target's datagrams back to the session's client until
// the session's socket is closed.
func (f *PacketForwarder) replies(uc *net.UDPConn, s *session) {
	buf := make([]byte, 65535)
	for {
		n, err := s.up.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ICMP errors (refused) must not end the session
		}
		s.last.Store(time.Now().UnixNano())
		if _, err := uc.WriteToUDPAddrPort(buf[:n], s.client); err == nil {
			s.out.Add(uint64(n))
			f.mu.Lock()
			f.stats.FromTarget++
			f.mu.Unlock()
		}
	}
}

// janitor forgets idle sessions.
func (f *PacketForwarder) janitor(done <-chan struct{}) {
	t := time.NewTicker(max(f.idle()/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			cutoff := time.Now().Add(-f.idle()).UnixNano()
			f.mu.Lock()
			for k, s := range f.sessions {
				if s.last.Load() < cutoff {
					s.up.Close()
					delete(f.sessions, k)
					if f.Logger != nil {
						f.Logger.Debug("session expired", "client", k)
					}
					f.ended(s, server.ErrIdle)
				}
			}
			f.mu.Unlock()
		}
	}
}

func (f *PacketForwarder) closeSessions() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, s := range f.sessions {
		s.up.Close()
		delete(f.sessions, k)
		f.ended(s, nil)
	}
}

// Shutdown stops every Serve call and closes the sessions.
func (f *PacketForwarder) Shutdown(ctx context.Context) error {
	f.mu.Lock()
	f.closed = true
	for pc := range f.pcs {
		pc.Close()
	}
	f.mu.Unlock()
	return nil
}
