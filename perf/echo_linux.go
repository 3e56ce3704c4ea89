package perf

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/netkit-dev/netkit/internal/poll"

	"github.com/netkit-dev/netkit/latency"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/internal/rawsock"
	"golang.org/x/sys/unix"
)

// epollEcho runs the test on event loops, each an OS thread with an epoll
// set and its share of the connections, making non-blocking socket calls
// as raw system calls (see internal/rawsock). It reports false, having
// done nothing, for targets it does not drive (tls), which then run on
// goroutines.
func epollEcho(ctx context.Context, o EchoConfig, conns []net.Conn, dest net.Addr, measureFrom, end time.Time, t *tally) (string, bool) {
	if o.Target.Scheme != endpoint.TCP && o.Target.Scheme != endpoint.Unix {
		return "", false
	}
	var unixPath string
	var family int
	var ap netip.AddrPort
	var zone uint32
	if o.Fresh {
		switch a := dest.(type) {
		case *net.TCPAddr:
			if o.Dialer.Dialer.LocalAddr != nil {
				return "", false // a source address: leave it to the dialer
			}
			ap = a.AddrPort()
			family = unix.AF_INET
			if ap.Addr().Is6() && !ap.Addr().Is4In6() {
				family = unix.AF_INET6
			}
			if a.Zone != "" {
				ifi, err := net.InterfaceByName(a.Zone)
				if err != nil {
					return "", false
				}
				zone = uint32(ifi.Index)
			}
		case *net.UnixAddr:
			family = unix.AF_UNIX
			unixPath = a.Name
		default:
			return "", false
		}
	}
	// Take each connection's socket from the Go runtime: a duplicate of
	// it, non-blocking, and the original closed, which takes it out of
	// the runtime's own epoll set.
	fds := make([]int, 0, len(conns))
	for _, c := range conns {
		fd, err := takeFD(c)
		if err != nil {
			t.fail(err)
			continue
		}
		fds = append(fds, fd)
	}
	nloops := o.Loops
	if nloops <= 0 {
		nloops = runtime.GOMAXPROCS(0)
	}
	slots := o.Conns
	if !o.Fresh {
		slots = len(fds)
	}
	nloops = max(min(nloops, slots), 1)
	var stop atomic.Bool
	defer context.AfterFunc(ctx, func() { stop.Store(true) })()
	rp := newRamp(o.Payload)
	var wg sync.WaitGroup
	for k := range nloops {
		lp := &echoLoop{o: &o, rp: rp, measureFrom: measureFrom, end: end, stop: &stop,
			family: family, ap: ap, zone: zone}
		if family == unix.AF_UNIX {
			lp.sa = &unix.SockaddrUnix{Name: unixPath} // one each: it caches its raw form
		}
		var mine []int
		for i := k; i < slots; i += nloops {
			mine = append(mine, i)
		}
		if !o.Fresh {
			for j, i := range mine {
				mine[j] = fds[i]
			}
		}
		wg.Go(func() {
			lp.run(mine)
			t.add(&lp.h, lp.count, lp.all, lp.errs, lp.first)
		})
	}
	wg.Wait()
	return "epoll", true
}

// takeFD returns a non-blocking duplicate of c's socket and closes c.
func takeFD(c net.Conn) (int, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		c.Close()
		return -1, fmt.Errorf("perf: a %T has no socket", c)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		c.Close()
		return -1, err
	}
	nfd := -1
	cerr := rc.Control(func(fd uintptr) {
		nfd, err = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	})
	c.Close()
	if cerr != nil {
		return -1, cerr
	}
	if err != nil {
		return -1, err
	}
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return -1, err
	}
	return nfd, nil
}

// echoLoop is one event loop of the engine.
type echoLoop struct {
	o           *EchoConfig
	rp          ramp
	measureFrom time.Time
	end         time.Time
	stop        *atomic.Bool

	// Fresh connections go to ap (zone for IPv6) or to sa (unix).
	family int
	ap     netip.AddrPort
	zone   uint32
	sa     unix.Sockaddr

	poller *poll.Poller
	conns  map[int32]*epConn
	buf    []byte
	now    time.Time // the time of the current wake-up

	h     latency.Histogram
	count uint64 // echoes checked in the measured time
	all   uint64 // and in the warm-up
	errs  uint64
	first error
}

// epConn is a connection of an echoLoop.
type epConn struct {
	fd         int
	id         int         // makes its requests its own: the slot (Fresh) or the socket
	next, done uint64      // requests sent, echoes checked
	got        int         // bytes of echo done received
	sent       []time.Time // ring of send times (Fresh: the connect's)
	out        []byte      // requests not yet written
	outOff     int
	wantOut    bool // EPOLLOUT is asked for
	connecting bool // Fresh: the connect has not been seen to finish
}

func (l *echoLoop) fail(err error) {
	l.errs++
	if l.first == nil {
		l.first = err
	}
}

func (l *echoLoop) run(slots []int) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var err error
	l.poller, err = poll.New(256)
	if err != nil {
		l.fail(err)
		for _, fd := range slots {
			if !l.o.Fresh {
				unix.Close(fd)
			}
		}
		return
	}
	defer l.poller.Close()
	l.conns = make(map[int32]*epConn, len(slots))
	l.buf = make([]byte, max(64<<10, l.o.Payload*l.o.Depth))
	l.now = time.Now()
	for _, s := range slots {
		if l.o.Fresh {
			l.dial(s)
			continue
		}
		c := &epConn{fd: s, id: s, sent: make([]time.Time, l.o.Depth)}
		if err := l.poller.Add(s, poll.In|poll.RdHup|poll.Edge); err != nil {
			unix.Close(s)
			l.fail(err)
			continue
		}
		l.conns[int32(s)] = c
		for range l.o.Depth {
			l.queue(c)
		}
		l.flush(c)
	}
	for len(l.conns) > 0 && !l.stop.Load() {
		events, err := l.poller.Wait(max(min(time.Until(l.end)+time.Millisecond, 50*time.Millisecond), time.Millisecond))
		if err != nil {
			l.fail(err)
			break
		}
		l.now = time.Now()
		for _, ev := range events {
			c := l.conns[ev.Fd]
			if c == nil {
				continue
			}
			if ev.Events&(poll.Out|poll.Err) != 0 && (c.connecting || c.outOff < len(c.out)) {
				if !l.writable(c) {
					continue
				}
			}
			if ev.Events&(poll.In|poll.Closing) != 0 {
				l.readable(c, ev.Events&poll.Closing != 0)
			}
		}
		if !l.now.Before(l.end) && l.drained() {
			break
		}
	}
	for _, c := range l.conns {
		rawsock.Close(c.fd)
	}
}

// drained reports, once the test is over, whether the echoes still in
// flight have come back (no new requests go out by then), or a second has
// passed: closing a socket with an echo unread would reset the connection,
// and the server would see an error that is not its own.
func (l *echoLoop) drained() bool {
	if !l.now.Before(l.end.Add(time.Second)) {
		return true
	}
	for _, c := range l.conns {
		if c.done < c.next {
			return false
		}
	}
	return true
}

// dial opens slot s's next connection and sends its request.
func (l *echoLoop) dial(s int) {
	for !l.stop.Load() && l.now.Before(l.end) {
		c, err := l.connect(s)
		if err == nil {
			l.conns[int32(c.fd)] = c
			return
		}
		l.fail(err)
		l.now = time.Now()
	}
}

func (l *echoLoop) connect(s int) (*epConn, error) {
	fd, err := rawsock.Socket(l.family, unix.SOCK_STREAM)
	if err != nil {
		return nil, err
	}
	c := &epConn{fd: fd, id: s, sent: []time.Time{time.Now()}}
	if l.family == unix.AF_UNIX {
		err = unix.Connect(fd, l.sa)
	} else {
		err = rawsock.Connect(fd, l.ap, l.zone)
	}
	switch err {
	case nil:
	case unix.EINPROGRESS:
		c.connecting = true
	default:
		// EAGAIN too: out of local ports (TCP), or the listener's
		// backlog is full (Unix); either way no connect is under way.
		rawsock.Close(fd)
		return nil, fmt.Errorf("connect: %w", err)
	}
	l.queue(c)
	if !c.connecting {
		if err := l.flushOut(c); err != nil {
			rawsock.Close(fd)
			return nil, err
		}
	}
	events := uint32(poll.In | poll.RdHup | poll.Edge)
	if c.connecting || c.outOff < len(c.out) {
		events |= poll.Out
		c.wantOut = true
	}
	if err := l.poller.Add(fd, events); err != nil {
		rawsock.Close(fd)
		return nil, err
	}
	return c, nil
}

// queue appends the connection's next request to its output. The time of
// sending is taken here: the request goes out before the loop turns to
// another connection.
func (l *echoLoop) queue(c *epConn) {
	n := len(c.out)
	c.out = append(c.out, make([]byte, l.o.Payload)...)
	l.rp.fill(c.out[n:], c.id, c.next)
	if !l.o.Fresh {
		c.sent[c.next%uint64(len(c.sent))] = time.Now()
	}
	c.next++
}

// writable handles EPOLLOUT: a connect finished, or room in the socket.
// It reports false if the connection was closed.
func (l *echoLoop) writable(c *epConn) bool {
	if c.connecting {
		if err := poll.ConnectResult(c.fd); err != nil {
			l.drop(c, fmt.Errorf("connect: %w", err))
			return false
		}
		c.connecting = false
	}
	return l.flush(c)
}

// flush writes what is queued and asks for EPOLLOUT while some is left.
// It reports false if the connection was closed.
func (l *echoLoop) flush(c *epConn) bool {
	if err := l.flushOut(c); err != nil {
		l.drop(c, err)
		return false
	}
	left := c.outOff < len(c.out)
	if left != c.wantOut {
		events := uint32(poll.In | poll.RdHup | poll.Edge)
		if left {
			events |= poll.Out
		}
		if err := l.poller.Mod(c.fd, events); err != nil {
			l.drop(c, err)
			return false
		}
		c.wantOut = left
	}
	return true
}

// flushOut writes until the output is empty or the socket full.
func (l *echoLoop) flushOut(c *epConn) error {
	for c.outOff < len(c.out) {
		n, err := rawsock.Write(c.fd, c.out[c.outOff:])
		switch err {
		case nil:
			c.outOff += n
		case unix.EINTR:
		case unix.EAGAIN:
			return nil
		default:
			return fmt.Errorf("write: %w", err)
		}
	}
	c.out, c.outOff = c.out[:0], 0
	return nil
}

// drop closes c and counts err, unless the test is over. With Fresh, the
// connection's slot starts its next one.
func (l *echoLoop) drop(c *epConn, err error) {
	rawsock.Close(c.fd)
	delete(l.conns, int32(c.fd))
	if l.stop.Load() || !l.now.Before(l.end) {
		return
	}
	l.fail(err)
	if l.o.Fresh {
		l.dial(c.id)
	}
}

// readable reads the echoes waiting on c and checks them, and sends a
// request for each one done.
func (l *echoLoop) readable(c *epConn, hup bool) {
	for {
		n, err := rawsock.Read(c.fd, l.buf)
		switch {
		case err == nil && n > 0:
			l.now = time.Now()
			if !l.consume(c, l.buf[:n]) {
				return
			}
			if n < len(l.buf) && !hup {
				// Less than asked for: the socket is empty, and more
				// bytes or a FIN will raise a new edge.
				l.flush(c)
				return
			}
		case err == nil && n == 0:
			l.drop(c, errors.New("the server closed the connection"))
			return
		case err == unix.EAGAIN:
			l.flush(c)
			return
		case err == unix.EINTR:
		default:
			l.drop(c, fmt.Errorf("read: %w", err))
			return
		}
	}
}

// consume checks p, the next bytes of c's echoes. It reports false if c
// was closed: an echo differed, or (Fresh) the echo is complete.
func (l *echoLoop) consume(c *epConn, p []byte) bool {
	payload := l.o.Payload
	for len(p) > 0 {
		if c.done >= c.next {
			l.drop(c, errors.New("the server sent bytes nobody asked for"))
			return false
		}
		k := min(len(p), payload-c.got)
		if !l.rp.check(p[:k], c.got, c.id, c.done) {
			l.drop(c, errors.New("an echo differs from its request"))
			return false
		}
		p, c.got = p[k:], c.got+k
		if c.got < payload {
			continue
		}
		c.got = 0
		l.all++
		if !l.now.Before(l.measureFrom) && l.now.Before(l.end) {
			l.h.Record(l.now.Sub(c.sent[c.done%uint64(len(c.sent))]))
			l.count++
		}
		c.done++
		if l.o.Fresh {
			if len(p) > 0 {
				l.drop(c, errors.New("the server sent bytes nobody asked for"))
				return false
			}
			rawsock.Close(c.fd)
			delete(l.conns, int32(c.fd))
			if l.now.Before(l.end) {
				l.dial(c.id)
			}
			return false
		}
		if l.now.Before(l.end) {
			l.queue(c)
		}
	}
	return true
}
