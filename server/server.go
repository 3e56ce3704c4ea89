package server

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Server is the goroutine engine: it serves each connection on a goroutine
// of its own, with blocking reads and writes. Set Handler or Stream, not
// both. A Server may serve several listeners at once.
type Server struct {
	Config
	// Handler serves connections through event callbacks.
	Handler Handler
	// Stream serves connections in a blocking loop of its own.
	Stream StreamHandler

	initOnce sync.Once
	tracker  *Tracker
	bufs     sync.Pool

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*gconn]struct{}
	wg        sync.WaitGroup // one per connection goroutine

	shuttingDown atomic.Bool
	drainAt      atomic.Int64  // UnixNano: reads end here once shutting down
	stopped      chan struct{} // closed by Shutdown
	streamCtx    context.Context
	cancelStream context.CancelFunc
}

func (s *Server) init() {
	s.initOnce.Do(func() {
		s.tracker = NewTracker(&s.Config)
		s.listeners = map[net.Listener]struct{}{}
		s.conns = map[*gconn]struct{}{}
		s.stopped = make(chan struct{})
		s.streamCtx, s.cancelStream = context.WithCancel(context.Background())
		size := s.readBufferSize()
		s.bufs.New = func() any { b := make([]byte, size); return &b }
	})
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	s.init()
	return s.tracker.Stats()
}

// Serve accepts connections on l and serves each on its own goroutine
// until Shutdown is called (it returns nil then) or ctx is cancelled (it
// closes every connection at once and returns ctx.Err()). It closes l.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	s.init()
	switch {
	case s.Handler == nil && s.Stream == nil:
		return ErrNoHandler
	case s.Handler != nil && s.Stream != nil:
		return ErrTwoHandlers
	}
	s.mu.Lock()
	if s.shuttingDown.Load() {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		l.Close()
	}()

	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()

	var backoff time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.shuttingDown.Load() {
				return nil
			}
			if ctx.Err() != nil {
				s.closeAll(ctx.Err())
				s.wg.Wait()
				return ctx.Err()
			}
			if isTemporary(err) {
				// Out of file descriptors, or a connection reset before
				// it was accepted: wait and go on, never spin.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				if s.Logger != nil {
					s.Logger.Warn("accept failed; retrying", "err", err, "in", backoff)
				}
				select {
				case <-time.After(backoff):
				case <-s.stopped:
				case <-ctx.Done():
				}
				continue
			}
			return err
		}
		backoff = 0
		remote, local := AddrPort(nc.RemoteAddr()), AddrPort(nc.LocalAddr())
		if s.EvictIdle > 0 && s.MaxConns > 0 && s.tracker.Stats().Active >= int64(s.MaxConns) {
			s.evictIdlest()
		}
		id, ok := s.tracker.Admit(remote, local)
		if !ok {
			nc.Close()
			continue
		}
		c := &gconn{s: s, nc: nc, id: id, start: time.Now(), done: make(chan struct{}), ended: make(chan struct{})}
		c.touch()
		s.mu.Lock()
		if s.shuttingDown.Load() {
			// Accepted as Shutdown began: Shutdown may already wait for
			// the connections it knows, so this one is not served.
			s.mu.Unlock()
			nc.Close()
			s.tracker.Done(id, remote, local, 0, 0, 0, ErrShutdown)
			return nil
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

// evictIdlest closes the connection idle longest, if it has been idle at
// least EvictIdle, and waits (briefly) for its slot to come free.
func (s *Server) evictIdlest() {
	var victim *gconn
	oldest := time.Now().Add(-s.EvictIdle).UnixNano()
	s.mu.Lock()
	for c := range s.conns {
		if l := c.last.Load(); l <= oldest {
			victim, oldest = c, l
		}
	}
	s.mu.Unlock()
	if victim == nil {
		return
	}
	if s.Logger != nil {
		s.Logger.Info("evicted the connection idle longest", "id", victim.id, "remote", victim.nc.RemoteAddr(), "idle", time.Since(time.Unix(0, oldest)))
	}
	victim.abort(ErrEvicted)
	victim.nc.Close() // a stream handler holds the socket itself
	select {
	case <-victim.ended:
	case <-time.After(time.Second):
	}
}

// activityConn marks its connection active on each read and write.
type activityConn struct {
	net.Conn
	g *gconn
}

func (a *activityConn) Read(p []byte) (int, error) {
	n, err := a.Conn.Read(p)
	if n > 0 {
		a.g.touch()
	}
	return n, err
}

func (a *activityConn) Write(p []byte) (int, error) {
	n, err := a.Conn.Write(p)
	if n > 0 {
		a.g.touch()
	}
	return n, err
}

// isTemporary reports accept errors worth waiting out.
func isTemporary(err error) bool {
	var ne interface{ Temporary() bool }
	return errors.As(err, &ne) && ne.Temporary()
}

// Shutdown stops accepting, then lets each connection finish: for
// DrainGrace it goes on reading what peers have sent, answering it, and
// then closes the connection. It waits for every handler to return. If ctx
// ends first, it closes the remaining connections at once and returns
// ctx.Err().
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.mu.Lock()
	first := !s.shuttingDown.Swap(true)
	if first {
		s.drainAt.Store(time.Now().Add(s.drainGrace()).UnixNano())
		close(s.stopped)
	}
	for l := range s.listeners {
		l.Close()
	}
	drainAt := time.Unix(0, s.drainAt.Load())
	if s.Stream == nil {
		// Stream handlers own their connections: their context is
		// cancelled after the grace period instead.
		for c := range s.conns {
			c.nc.SetReadDeadline(drainAt)
		}
	}
	s.mu.Unlock()
	if first {
		t := time.AfterFunc(s.drainGrace(), s.cancelStream)
		defer t.Stop()
	}

	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.closeAll(ErrShutdown)
		<-done
		return ctx.Err()
	}
}

// closeAll closes every connection at once.
func (s *Server) closeAll(why error) {
	s.cancelStream()
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.abort(why)
	}
}

func (s *Server) serveConn(c *gconn) {
	defer s.wg.Done()
	defer close(c.ended)
	var err error
	if s.Stream != nil {
		var nc net.Conn = c.nc
		if s.EvictIdle > 0 {
			nc = &activityConn{Conn: c.nc, g: c} // so that idleness is known
		}
		s.Stream.ServeStream(s.streamCtx, nc)
		c.Close()
	} else {
		err = s.serveEvents(c)
	}
	if e := c.closeErr(); e != nil {
		err = e
	}
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.tracker.Done(c.id, AddrPort(c.nc.RemoteAddr()), AddrPort(c.nc.LocalAddr()), c.in.Load(), c.out.Load(), time.Since(c.start), err)
}

// serveEvents runs the event loop of one connection on its goroutine.
func (s *Server) serveEvents(c *gconn) (err error) {
	h := s.Handler
	defer func() {
		if e := c.closeErr(); e != nil {
			err = e
		}
		h.OnClose(c, err)
	}()
	h.OnOpen(c)
	bp := s.bufs.Get().(*[]byte)
	buf := *bp
	eof := false
	for !c.closed.Load() {
		s.setReadDeadline(c)
		n, rerr := c.nc.Read(buf)
		if n > 0 {
			c.in.Add(uint64(n))
			s.tracker.AddIn(n)
			c.touch()
			h.OnData(c, buf[:n])
		}
		if rerr == nil {
			continue
		}
		if rerr == io.EOF {
			eof = true
			break
		}
		if c.closed.Load() {
			break
		}
		if isTimeout(rerr) {
			if s.shuttingDown.Load() && !time.Now().Before(time.Unix(0, s.drainAt.Load())) {
				c.Close()
				err = ErrShutdown
				break
			}
			if s.idle(c) {
				c.abort(ErrIdle)
				break
			}
			continue // a write kept the connection busy, or the drain began
		}
		c.abort(rerr)
		break
	}
	s.bufs.Put(bp)
	if eof && !c.closed.Load() {
		h.OnEOF(c)
		s.awaitClose(c)
	}
	c.Close()
	return err
}

// setReadDeadline arms the next read: the idle deadline, or the drain
// deadline once shutting down.
func (s *Server) setReadDeadline(c *gconn) {
	if s.IdleTimeout > 0 {
		c.nc.SetReadDeadline(time.Unix(0, c.last.Load()).Add(s.IdleTimeout))
	}
	// Shutdown sets the flag before it sets deadlines, so either it sets
	// this connection's deadline after ours, or we see the flag here.
	if s.shuttingDown.Load() {
		c.nc.SetReadDeadline(time.Unix(0, s.drainAt.Load()))
	}
}

// idle reports whether c has been idle for IdleTimeout.
func (s *Server) idle(c *gconn) bool {
	return s.IdleTimeout > 0 && time.Since(time.Unix(0, c.last.Load())) >= s.IdleTimeout
}

// awaitClose waits, after the peer's EOF, for the handler to close c, the
// server to shut down, or the idle timeout.
func (s *Server) awaitClose(c *gconn) {
	var tick <-chan time.Time
	if s.IdleTimeout > 0 {
		t := time.NewTicker(s.IdleTimeout / 4)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-c.done:
			return
		case <-s.stopped:
			c.Close()
			return
		case <-tick:
			if s.idle(c) {
				c.abort(ErrIdle)
				return
			}
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// gconn is a connection of the goroutine engine.
type gconn struct {
	s     *Server
	nc    net.Conn
	id    uint64
	start time.Time

	wmu    sync.Mutex // serializes writes and the graceful close
	closed atomic.Bool
	done   chan struct{} // closed when the connection closes
	ended  chan struct{} // closed when its handler has returned and it is counted out
	errMu  sync.Mutex
	err    error // why an abort closed the connection

	in, out atomic.Uint64
	last    atomic.Int64 // UnixNano of the last read or write

	vmu   sync.Mutex
	value any
}

func (c *gconn) touch() { c.last.Store(time.Now().UnixNano()) }

func (c *gconn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed.Load() {
		return 0, net.ErrClosed
	}
	if t := c.s.WriteTimeout; t > 0 {
		c.nc.SetWriteDeadline(time.Now().Add(t))
	}
	n, err := c.nc.Write(p)
	if n > 0 {
		c.out.Add(uint64(n))
		c.s.tracker.AddOut(n)
		c.touch()
	}
	return n, err
}

func (c *gconn) CloseWrite() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed.Load() {
		return net.ErrClosed
	}
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Close waits for a write in progress, then closes.
func (c *gconn) Close() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.close(nil)
}

// abort closes at once, cutting short a write in progress.
func (c *gconn) abort(why error) { c.close(why) }

func (c *gconn) close(why error) error {
	if c.closed.Swap(true) {
		return nil
	}
	if why != nil {
		c.errMu.Lock()
		c.err = why
		c.errMu.Unlock()
	}
	err := c.nc.Close()
	close(c.done)
	return err
}

func (c *gconn) closeErr() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	return c.err
}

func (c *gconn) ID() uint64           { return c.id }
func (c *gconn) LocalAddr() net.Addr  { return c.nc.LocalAddr() }
func (c *gconn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

func (c *gconn) SetValue(v any) {
	c.vmu.Lock()
	c.value = v
	c.vmu.Unlock()
}

func (c *gconn) Value() any {
	c.vmu.Lock()
	defer c.vmu.Unlock()
	return c.value
}
