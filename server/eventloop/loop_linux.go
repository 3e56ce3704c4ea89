package eventloop

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netkit-dev/netkit/internal/poll"

	"github.com/netkit-dev/netkit/internal/rawsock"
	"github.com/netkit-dev/netkit/server"
	"golang.org/x/sys/unix"
)

// listener is a listening socket that every loop waits on.
type listener struct {
	f     *os.File // a duplicate of the net.Listener's socket, non-blocking
	fd    int
	tcp   bool
	local netip.AddrPort
	once  sync.Once
}

func newListener(l net.Listener) (*listener, error) {
	type filer interface{ File() (*os.File, error) }
	fl, ok := l.(filer)
	if !ok {
		return nil, fmt.Errorf("eventloop: cannot serve a %T: want a TCP or Unix listener", l)
	}
	f, err := fl.File()
	if err != nil {
		return nil, fmt.Errorf("eventloop: %w", err)
	}
	fd := int(f.Fd())
	if err := unix.SetNonblock(fd, true); err != nil {
		f.Close()
		return nil, fmt.Errorf("eventloop: %w", err)
	}
	_, tcp := l.(*net.TCPListener)
	return &listener{f: f, fd: fd, tcp: tcp, local: server.AddrPort(l.Addr())}, nil
}

func (lis *listener) close() { lis.once.Do(func() { lis.f.Close() }) }

// loop is one event loop: an OS thread, an epoll set, and the connections
// it accepted.
type loop struct {
	s      *Server
	poller *poll.Poller
	evfd   int // eventfd: wakes the loop for its mailbox
	tid    atomic.Int32
	buf    []byte
	conns  map[int]*conn
	byFD   []*conn // conns again, indexed by descriptor: the lookup per event
	lists  map[int]*listener
	ready  []*conn // connections with unread data left by the read budget

	mu      sync.Mutex
	mailbox []func()

	wheel   wheel
	drainAt time.Time // set once shutting down
	quit    bool

	acceptPaused  bool
	acceptResume  time.Time
	acceptBackoff time.Duration
}

func newLoop(s *Server) (*loop, error) {
	p, err := poll.New(256)
	if err != nil {
		return nil, fmt.Errorf("eventloop: %w", err)
	}
	evfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("eventloop: eventfd: %w", err)
	}
	if err := p.Add(evfd, poll.In); err != nil {
		p.Close()
		unix.Close(evfd)
		return nil, fmt.Errorf("eventloop: epoll_ctl: %w", err)
	}
	l := &loop{s: s, poller: p, evfd: evfd, buf: make([]byte, s.readBudget()), conns: map[int]*conn{}, lists: map[int]*listener{}}
	l.wheel.init(s.IdleTimeout)
	return l, nil
}

func (l *loop) closeFDs() {
	l.poller.Close()
	unix.Close(l.evfd)
}

// onLoop reports whether the caller runs on this loop's thread.
func (l *loop) onLoop() bool { return int32(unix.Gettid()) == l.tid.Load() }

// post runs f on the loop, soon.
func (l *loop) post(f func()) {
	l.mu.Lock()
	wake := len(l.mailbox) == 0
	l.mailbox = append(l.mailbox, f)
	l.mu.Unlock()
	if wake {
		var one = [8]byte{1}
		unix.Write(l.evfd, one[:])
	}
}

func (l *loop) addListener(lis *listener) {
	l.post(func() {
		l.lists[lis.fd] = lis
		l.watchListener(lis)
	})
}

func (l *loop) watchListener(lis *listener) {
	// EPOLLEXCLUSIVE: one waiting loop is woken per connection.
	if err := l.poller.Add(lis.fd, poll.In|poll.Exclus); err != nil && l.s.Logger != nil {
		l.s.Logger.Warn("eventloop: watch listener", "err", err)
	}
}

func (l *loop) removeListener(lis *listener) {
	if _, ok := l.lists[lis.fd]; !ok {
		return
	}
	delete(l.lists, lis.fd)
	l.poller.Del(lis.fd)
}

func (l *loop) run() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	l.tid.Store(int32(unix.Gettid()))
	for !l.quit {
		events, err := l.poller.Wait(l.timeout())
		if err != nil {
			if l.s.Logger != nil {
				l.s.Logger.Warn("eventloop: epoll_wait", "err", err)
			}
			time.Sleep(time.Millisecond)
		}
		for _, ev := range events {
			fd := int(ev.Fd)
			var c *conn
			if fd < len(l.byFD) {
				c = l.byFD[fd]
			}
			switch {
			case c != nil:
				// Edge-triggered epoll reports Out with every In while the
				// socket has room: flush only when something is queued.
				// (Close and CloseWrite post a flush of their own.)
				if ev.Events&(poll.Err|poll.Hup) != 0 || ev.Events&poll.Out != 0 && c.queued.Load() {
					c.flush()
				}
				if ev.Events&(poll.In|poll.Closing) != 0 {
					c.readable(ev.Events&poll.Closing != 0)
				}
			case fd == l.evfd:
				l.runMailbox()
			case l.lists[fd] != nil:
				l.accept(l.lists[fd])
			}
		}
		if len(l.ready) > 0 {
			ready := l.ready
			l.ready = nil
			for _, c := range ready {
				c.inReady = false
				c.readable(true) // no event to go by: read until EAGAIN
			}
		}
		l.timers()
	}
	l.abortAll(server.ErrShutdown)
}

// timeout is how long epoll_wait may sleep: not at all with work left over,
// until the next timer otherwise.
func (l *loop) timeout() time.Duration {
	if len(l.ready) > 0 {
		return 0
	}
	wait := time.Duration(-1)
	limit := func(d time.Duration) {
		d = max(d, time.Millisecond)
		if wait < 0 || d < wait {
			wait = d
		}
	}
	if l.wheel.tick > 0 && len(l.conns) > 0 {
		limit(l.wheel.tick)
	}
	if !l.drainAt.IsZero() && len(l.conns) > 0 {
		limit(time.Until(l.drainAt))
	}
	if l.acceptPaused {
		limit(time.Until(l.acceptResume))
	}
	return wait
}

func (l *loop) runMailbox() {
	var b [8]byte
	unix.Read(l.evfd, b[:])
	l.mu.Lock()
	box := l.mailbox
	l.mailbox = nil
	l.mu.Unlock()
	for _, f := range box {
		f()
	}
}

func (l *loop) timers() {
	now := time.Now()
	if l.wheel.tick > 0 {
		l.wheel.advance(now, func(c *conn) bool {
			if c.gone {
				return false
			}
			last := time.Unix(0, c.last.Load())
			if now.Sub(last) >= l.s.IdleTimeout {
				c.abort(server.ErrIdle)
				return false
			}
			return true
		})
	}
	if !l.drainAt.IsZero() && !now.Before(l.drainAt) {
		for _, c := range l.conns {
			c.mu.Lock()
			closing := c.closing
			c.closing = true
			c.mu.Unlock()
			if !closing {
				c.shutdownErr = server.ErrShutdown
				c.flush()
			}
		}
	}
	if l.acceptPaused && !now.Before(l.acceptResume) {
		l.acceptPaused = false
		for _, lis := range l.lists {
			l.watchListener(lis)
		}
	}
}

// accept takes the connections waiting on lis, at most 64 at a time so
// that a flood of connections cannot starve the open ones.
func (l *loop) accept(lis *listener) {
	for range 64 {
		nfd, sa, err := rawsock.Accept4(lis.fd)
		switch err {
		case nil:
		case unix.EAGAIN:
			return
		case unix.EINTR, unix.ECONNABORTED:
			continue
		case unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM:
			// Out of descriptors or memory: stop accepting for a while,
			// rather than waking again and again for the same backlog.
			l.acceptBackoff = min(max(2*l.acceptBackoff, 5*time.Millisecond), time.Second)
			l.acceptPaused = true
			l.acceptResume = time.Now().Add(l.acceptBackoff)
			for _, other := range l.lists {
				l.poller.Del(other.fd)
			}
			if l.s.Logger != nil {
				l.s.Logger.Warn("eventloop: accept failed; pausing", "err", err, "for", l.acceptBackoff)
			}
			return
		default:
			if l.s.Logger != nil {
				l.s.Logger.Warn("eventloop: accept", "err", err)
			}
			return
		}
		l.acceptBackoff = 0
		if lis.tcp {
			rawsock.SetsockoptInt(nfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		}
		remote := sockaddrAddrPort(sa)
		id, ok := l.s.tracker.Admit(remote, lis.local)
		if !ok {
			rawsock.Close(nfd)
			continue
		}
		c := &conn{l: l, fd: nfd, id: id, remote: remote, remoteAddr: sockaddrNet(sa, lis.tcp), start: time.Now()}
		c.cond.L = &c.mu
		c.last.Store(c.start.UnixNano())
		if err := l.poller.Add(nfd, poll.In|poll.Out|poll.RdHup|poll.Edge); err != nil {
			rawsock.Close(nfd)
			l.s.tracker.Done(id, remote, lis.local, 0, 0, 0, err)
			continue
		}
		l.conns[nfd] = c
		if nfd >= len(l.byFD) {
			l.byFD = append(l.byFD, make([]*conn, nfd+1-len(l.byFD))...)
		}
		l.byFD[nfd] = c
		c.local = lis.local
		if l.wheel.tick > 0 {
			l.wheel.add(c, c.start.Add(l.s.IdleTimeout))
		}
		l.s.Handler.OnOpen(c)
	}
}

func (l *loop) pushReady(c *conn) {
	if !c.inReady {
		c.inReady = true
		l.ready = append(l.ready, c)
	}
}

// abortAll closes every connection of the loop at once.
func (l *loop) abortAll(why error) {
	for _, c := range l.conns {
		c.abort(why)
	}
}

func sockaddrAddrPort(sa unix.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port))
	}
	return netip.AddrPort{}
}

func sockaddrNet(sa unix.Sockaddr, tcp bool) net.Addr {
	if u, ok := sa.(*unix.SockaddrUnix); ok {
		return &net.UnixAddr{Name: u.Name, Net: "unix"}
	}
	ap := sockaddrAddrPort(sa)
	if tcp {
		return net.TCPAddrFromAddrPort(ap)
	}
	return &net.UnixAddr{Net: "unix"}
}
