package eventloop

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netkit-dev/netkit/internal/rawsock"
	"github.com/netkit-dev/netkit/server"
	"golang.org/x/sys/unix"
)

// conn is a connection of an event loop.
type conn struct {
	l          *loop
	fd         int
	id         uint64
	remote     netip.AddrPort
	remoteAddr net.Addr
	local      netip.AddrPort
	start      time.Time
	last       atomic.Int64 // UnixNano of the last byte read or written
	in, out    atomic.Uint64

	// Guarded by mu: the output queue and what has been asked of it.
	mu      sync.Mutex
	cond    sync.Cond // writers on other goroutines wait here for room
	outq    [][]byte
	outOff  int         // bytes of outq[0] already sent
	outLen  int         // bytes queued
	queued  atomic.Bool // outLen > 0, for the loop to read without mu
	closing bool
	shutWr  bool
	wrShut  bool
	closed  bool

	// Touched only by the loop.
	eof         bool
	readPaused  bool
	inReady     bool
	gone        bool
	shutdownErr error

	vmu   sync.Mutex
	value any

	localOnce sync.Once
	localAddr net.Addr
}

var _ server.Conn = (*conn)(nil)

func (c *conn) touch() { c.last.Store(time.Now().UnixNano()) }

// readable reads what the socket has, up to the loop's read budget, and
// hands it to the handler. hup says the peer's FIN (or an error) was
// reported with the wake-up: then reading goes on until it shows.
func (c *conn) readable(hup bool) {
	l := c.l
	budget := l.s.readBudget()
	for budget > 0 {
		if c.gone || c.eof || c.readPaused || c.isClosing() {
			return
		}
		want := min(len(l.buf), budget)
		n, err := rawsock.Read(c.fd, l.buf[:want])
		switch {
		case err == nil && n > 0:
			budget -= n
			c.in.Add(uint64(n))
			l.s.tracker.AddIn(n)
			c.touch()
			l.s.Handler.OnData(c, l.buf[:n])
			if n < want && !hup {
				// The socket had less than we asked for, so it is empty
				// now; bytes or a FIN that arrive later raise a new edge.
				// This saves the read that would only say EAGAIN. (A FIN
				// already reported raises no new edge, hence hup.)
				return
			}
		case err == nil && n == 0:
			c.eof = true
			l.s.Handler.OnEOF(c)
			return
		case err == unix.EAGAIN:
			return
		case err == unix.EINTR:
		default:
			c.abort(err)
			return
		}
	}
	l.pushReady(c) // the budget ran out: come back after the others
}

func (c *conn) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing || c.closed
}

// Write sends p at once if nothing is queued and the socket takes it, and
// queues what it does not take. A writer on another goroutine waits while
// more than MaxOutput bytes are queued; the loop itself never waits, and
// stops reading the connection instead.
func (c *conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.closed || c.closing || c.shutWr {
		c.mu.Unlock()
		return 0, net.ErrClosed
	}
	w := 0
	if c.outLen == 0 {
		for w < len(p) {
			n, err := rawsock.Write(c.fd, p[w:])
			if err == unix.EINTR {
				continue
			}
			if err == unix.EAGAIN {
				break
			}
			if err != nil {
				c.mu.Unlock()
				c.l.post(func() { c.abort(err) })
				return w, &net.OpError{Op: "write", Net: "tcp", Err: err}
			}
			w += n
		}
	}
	if w > 0 {
		c.out.Add(uint64(w))
		c.l.s.tracker.AddOut(w)
		c.touch()
	}
	if w == len(p) {
		c.mu.Unlock()
		return w, nil
	}
	first := c.outLen == 0
	c.enqueue(p[w:])
	over := c.outLen > c.l.s.maxOutput()
	c.mu.Unlock()
	if first {
		// The loop skips an Out event while nothing is queued, and the
		// socket may have raised it between our EAGAIN and the enqueue:
		// ask for a flush, lest the queue wait for an edge that is gone.
		c.l.post(c.flush)
	}
	if !over {
		return len(p), nil
	}
	if c.l.onLoop() {
		c.readPaused = true
		return len(p), nil
	}
	c.mu.Lock()
	for c.outLen > c.l.s.maxOutput() && !c.closed {
		c.cond.Wait()
	}
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return len(p), net.ErrClosed
	}
	return len(p), nil
}

const chunkSize = 16 << 10

var chunkPool = sync.Pool{New: func() any { b := make([]byte, 0, chunkSize); return &b }}

// enqueue copies p to the end of the queue. c.mu is held.
func (c *conn) enqueue(p []byte) {
	c.outLen += len(p)
	c.queued.Store(c.outLen > 0)
	for len(p) > 0 {
		if n := len(c.outq); n > 0 {
			last := c.outq[n-1]
			if room := cap(last) - len(last); room > 0 && cap(last) == chunkSize {
				k := min(room, len(p))
				c.outq[n-1] = append(last, p[:k]...)
				p = p[k:]
				continue
			}
		}
		bp := chunkPool.Get().(*[]byte)
		c.outq = append(c.outq, (*bp)[:0])
	}
}

// flush writes the queue with writev until the socket is full, then does
// what was asked for after it: shut down the write side, or close.
func (c *conn) flush() {
	if c.gone {
		return
	}
	c.mu.Lock()
	for c.outLen > 0 {
		var iov [][]byte
		for i, b := range c.outq {
			if i == 0 {
				b = b[c.outOff:]
			}
			iov = append(iov, b)
			if len(iov) == 64 {
				break
			}
		}
		n, err := unix.Writev(c.fd, iov)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			break
		}
		if err != nil {
			c.mu.Unlock()
			c.abort(err)
			return
		}
		c.consume(n)
	}
	if c.outLen <= c.l.s.maxOutput() {
		c.cond.Broadcast()
	}
	resume := c.readPaused && c.outLen <= c.l.s.maxOutput()/2
	drained := c.outLen == 0
	if drained && c.shutWr && !c.wrShut {
		unix.Shutdown(c.fd, unix.SHUT_WR)
		c.wrShut = true
	}
	closeNow := drained && c.closing
	c.mu.Unlock()
	if closeNow {
		c.finish(c.shutdownErr)
		return
	}
	if resume {
		c.readPaused = false
		c.l.pushReady(c)
	}
}

// consume drops n sent bytes from the front of the queue. c.mu is held.
func (c *conn) consume(n int) {
	c.outLen -= n
	c.queued.Store(c.outLen > 0)
	c.out.Add(uint64(n))
	c.l.s.tracker.AddOut(n)
	c.touch()
	for n > 0 {
		first := len(c.outq[0]) - c.outOff
		if n < first {
			c.outOff += n
			return
		}
		n -= first
		b := c.outq[0][:0]
		chunkPool.Put(&b)
		c.outq[0] = nil
		c.outq = c.outq[1:]
		c.outOff = 0
	}
	if len(c.outq) == 0 {
		c.outq = nil
	}
}

// CloseWrite shuts down the write side once the queue has drained.
func (c *conn) CloseWrite() error {
	c.mu.Lock()
	if c.closed || c.closing {
		c.mu.Unlock()
		return net.ErrClosed
	}
	c.shutWr = true
	c.mu.Unlock()
	c.l.post(c.flush)
	return nil
}

// Close closes the connection once the queue has drained.
func (c *conn) Close() error {
	c.mu.Lock()
	if c.closed || c.closing {
		c.mu.Unlock()
		return nil
	}
	c.closing = true
	c.mu.Unlock()
	c.l.post(c.flush)
	return nil
}

// abort closes at once, dropping what is queued. Loop only.
func (c *conn) abort(why error) { c.finish(why) }

// finish closes the socket and tells the handler. Loop only.
func (c *conn) finish(why error) {
	if c.gone {
		return
	}
	c.gone = true
	l := c.l
	// Closing the socket takes it out of the epoll set (no EPOLL_CTL_DEL
	// needed) unless another process holds a copy, as a child does for a
	// moment between fork and exec; the events such a copy might still
	// raise name a closed descriptor, or one reused by a newer connection,
	// whose reads then find nothing: harmless.
	rawsock.Close(c.fd)
	delete(l.conns, c.fd)
	l.byFD[c.fd] = nil
	c.mu.Lock()
	c.closed = true
	for _, b := range c.outq {
		b = b[:0]
		chunkPool.Put(&b)
	}
	c.outq, c.outLen = nil, 0
	c.queued.Store(false)
	c.cond.Broadcast()
	c.mu.Unlock()
	if errno, ok := why.(unix.Errno); ok {
		why = &net.OpError{Op: "read", Net: "tcp", Err: errno}
	}
	l.s.Handler.OnClose(c, why)
	l.s.tracker.Done(c.id, c.remote, c.local, c.in.Load(), c.out.Load(), time.Since(c.start), why)
}

func (c *conn) ID() uint64           { return c.id }
func (c *conn) RemoteAddr() net.Addr { return c.remoteAddr }

func (c *conn) LocalAddr() net.Addr {
	c.localOnce.Do(func() {
		if sa, err := unix.Getsockname(c.fd); err == nil {
			_, tcp := c.remoteAddr.(*net.TCPAddr)
			c.localAddr = sockaddrNet(sa, tcp)
		}
	})
	return c.localAddr
}

func (c *conn) SetValue(v any) {
	c.vmu.Lock()
	c.value = v
	c.vmu.Unlock()
}

func (c *conn) Value() any {
	c.vmu.Lock()
	defer c.vmu.Unlock()
	return c.value
}
