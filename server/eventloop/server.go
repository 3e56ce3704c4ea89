package eventloop

import (
	"context"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netkit-dev/netkit/server"
)

// Server is the event-loop engine. Set Handler; the embedded Config holds
// the limits, timeouts, filter, logger and events, as for server.Server.
// A Server may serve several listeners at once.
type Server struct {
	server.Config
	// Handler serves the connections. Its callbacks run on the loop
	// that owns the connection and must not block: a slow callback stalls
	// every connection of its loop.
	Handler server.Handler
	// Loops is the number of event loops. If zero, GOMAXPROCS.
	Loops int
	// ReadBudget is how many bytes a loop reads from one connection
	// before it turns to the others. If zero, 64 KiB.
	ReadBudget int
	// MaxOutput is how many bytes may wait to be sent on one connection
	// before it stops reading and writers on other goroutines wait
	// (back-pressure: a client that does not read cannot make the server
	// hold more for it). If zero, 64 KiB, about what the goroutine engine
	// holds for such a client (its read buffer and a blocked write).
	MaxOutput int

	initOnce sync.Once
	initErr  error
	tracker  *server.Tracker
	loops    []*loop
	wg       sync.WaitGroup // the loops' goroutines

	mu           sync.Mutex
	listeners    map[*listener]struct{}
	shuttingDown atomic.Bool
	stopped      chan struct{}
	loopsDone    bool
}

func (s *Server) readBudget() int {
	if s.ReadBudget > 0 {
		return s.ReadBudget
	}
	return 64 << 10
}

func (s *Server) maxOutput() int {
	if s.MaxOutput > 0 {
		return s.MaxOutput
	}
	return 64 << 10
}

func (s *Server) drainGrace() time.Duration {
	if s.DrainGrace > 0 {
		return s.DrainGrace
	}
	return 100 * time.Millisecond
}

func (s *Server) init() error {
	s.initOnce.Do(func() {
		s.tracker = server.NewTracker(&s.Config)
		s.listeners = map[*listener]struct{}{}
		s.stopped = make(chan struct{})
		n := s.Loops
		if n <= 0 {
			n = runtime.GOMAXPROCS(0)
		}
		for range n {
			l, err := newLoop(s)
			if err != nil {
				s.initErr = err
				for _, l := range s.loops {
					l.closeFDs()
				}
				s.loops = nil
				return
			}
			s.loops = append(s.loops, l)
		}
		for _, l := range s.loops {
			s.wg.Go(l.run)
		}
	})
	return s.initErr
}

// Stats returns the server's counters.
func (s *Server) Stats() server.Stats {
	if s.init() != nil {
		return server.Stats{}
	}
	return s.tracker.Stats()
}

// Serve accepts connections on l, which must be a *net.TCPListener or a
// *net.UnixListener, until Shutdown (it returns nil) or ctx ends (it
// closes every connection at once and returns ctx.Err()). It closes l.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	defer l.Close()
	if s.Handler == nil {
		return server.ErrNoHandler
	}
	if err := s.init(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.shuttingDown.Load() {
		s.mu.Unlock()
		return server.ErrServerClosed
	}
	lis, err := newListener(l)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	s.listeners[lis] = struct{}{}
	s.mu.Unlock()
	for _, lp := range s.loops {
		lp.addListener(lis)
	}
	select {
	case <-s.stopped:
		return nil
	case <-ctx.Done():
		s.stopListener(lis)
		for _, lp := range s.loops {
			lp.post(func() { lp.abortAll(ctx.Err()) })
		}
		s.tracker.WaitIdle(context.Background())
		return ctx.Err()
	}
}

// stopListener takes a listener out of every loop and closes it.
func (s *Server) stopListener(lis *listener) {
	s.mu.Lock()
	_, ok := s.listeners[lis]
	delete(s.listeners, lis)
	s.mu.Unlock()
	if !ok {
		return
	}
	var wg sync.WaitGroup
	for _, lp := range s.loops {
		wg.Add(1)
		lp.post(func() {
			lp.removeListener(lis)
			wg.Done()
		})
	}
	wg.Wait()
	lis.close()
}

// Shutdown stops accepting, goes on reading and answering what peers have
// already sent for DrainGrace, then closes each connection once its
// output is flushed, and stops the loops. If ctx ends first it closes the
// remaining connections at once and returns ctx.Err().
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.init(); err != nil {
		return err
	}
	s.mu.Lock()
	first := !s.shuttingDown.Swap(true)
	lists := make([]*listener, 0, len(s.listeners))
	for lis := range s.listeners {
		lists = append(lists, lis)
	}
	s.mu.Unlock()
	for _, lis := range lists {
		s.stopListener(lis)
	}
	if first {
		drainAt := time.Now().Add(s.drainGrace())
		for _, lp := range s.loops {
			lp.post(func() { lp.drainAt = drainAt })
		}
		close(s.stopped)
	}
	// Wait for the connections to finish, with no polling: the tracker
	// says when the last one closes.
	err := s.tracker.WaitIdle(ctx)
	if err != nil {
		for _, lp := range s.loops {
			lp.post(func() { lp.abortAll(server.ErrShutdown) })
		}
		s.tracker.WaitIdle(context.Background())
	}
	s.mu.Lock()
	stop := !s.loopsDone
	s.loopsDone = true
	s.mu.Unlock()
	if stop {
		for _, lp := range s.loops {
			lp.post(func() { lp.quit = true })
		}
		s.wg.Wait()
		for _, lp := range s.loops {
			lp.closeFDs()
		}
	}
	return err
}
