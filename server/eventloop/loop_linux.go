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
	s     *Server
	epfd  int
	evfd  int // eventfd: wakes the loop for its mailbox
	tid   atomic.Int32
	buf   []byte
	conns map[int]*conn
	lists map[int]*listener
	ready []*conn // connections with unread data left by the read budget

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
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("eventloop: epoll_create1: %w", err)
	}
	evfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("eventloop: eventfd: %w", err)
	}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(evfd)}); err != nil {
		unix.Close(epfd)
		unix.Close(evfd)
		return nil, fmt.Errorf("eventloop: epoll_ctl: %w", err)
	}
	l := &loop{s: s, epfd: epfd, evfd: evfd, buf: make([]byte, s.readBudget()), conns: map[int]*conn{}, lists: map[int]*listener{}}
	l.wheel.init(s.IdleTimeout)
	return l, nil
}

func (l *loop) closeFDs() {
	unix.Close(l.epfd)
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
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLEXCLUSIVE, Fd: int32(lis.fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, lis.fd, &ev); err != nil && l.s.Logger != nil {
		l.s.Logger.Warn("eventloop: watch listener", "err", err)
	}
}

func (l *loop) removeListener(lis *listener) {
	if _, ok := l.lists[lis.fd]; !ok {
		return
	}
	delete(l.lists, lis.fd)
	unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, lis.fd, nil)
}

func (l *loop) run() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	l.tid.Store(int32(unix.Gettid()))
	events := make([]unix.EpollEvent, 256)
	for !l.quit {
		// Look first without sleeping, in a raw call: under load there
		// is nearly always something, and the runtime need not hear of it.
		n, err := rawsock.EpollWaitNow(l.epfd, events)
		if n == 0 && err == nil {
			n, err = unix.EpollWait(l.epfd, events, l.timeout())
		}
		if err != nil && err != unix.EINTR {
			if l.s.Logger != nil {
				l.s.Logger.Warn("eventloop: epoll_wait", "err", err)
			}
			time.Sleep(time.Millisecond)
		}
		for i := 0; i < n; i++ {
			ev := events[i]
			fd := int(ev.Fd)
			switch {
			case fd == l.evfd:
				l.runMailbox()
			case l.lists[fd] != nil:
				l.accept(l.lists[fd])
			default:
				c := l.conns[fd]
				if c == nil {
					continue
				}
				if ev.Events&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
					c.flush()
				}
				if ev.Events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
					c.readable(ev.Events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0)
				}
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
func (l *loop) timeout() int {
	if len(l.ready) > 0 {
		return 0
	}
	ms := -1
	limit := func(d time.Duration) {
		m := max(int(d/time.Millisecond), 1)
		if ms < 0 || m < ms {
			ms = m
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
	return ms
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
				unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, other.fd, nil)
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
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(nfd)}
		if err := rawsock.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, nfd, &ev); err != nil {
			rawsock.Close(nfd)
			l.s.tracker.Done(id, remote, lis.local, 0, 0, 0, err)
			continue
		}
		l.conns[nfd] = c
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
