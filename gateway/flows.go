package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netkit-dev/netkit/relay"
)

// flowTable is the connection tracking table: every flow the gateway
// forwards now.
type flowTable struct {
	mu   sync.Mutex
	m    map[uint64]*flow
	next uint64
}

// outbound is a flow's side towards its target, once there is one.
type outbound struct {
	local, target netip.AddrPort // the gateway's side and the target
}

type flow struct {
	id             uint64
	fwd            *forward
	proto          Proto
	client, listen netip.AddrPort // in: the client and the address it reached
	out            atomic.Pointer[outbound]
	rule           int
	started        time.Time
	cancel         context.CancelFunc

	// TCP
	meter      relay.Meter
	connecting atomic.Bool
	in         *net.TCPConn // the client's connection

	// UDP
	bytesIn, bytesOut, pktsIn, pktsOut atomic.Uint64
	last                               atomic.Int64 // UnixNano
}

func (fl *flow) String() string {
	return fmt.Sprintf("%s %s -> %s", fl.proto, fl.client, fl.listen)
}

func (t *flowTable) add(fl *flow) {
	t.mu.Lock()
	t.next++
	fl.id = t.next
	t.m[fl.id] = fl
	t.mu.Unlock()
}

func (t *flowTable) remove(fl *flow) {
	t.mu.Lock()
	delete(t.m, fl.id)
	t.mu.Unlock()
}

func (t *flowTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

func (t *flowTable) snapshot() []*flow {
	t.mu.Lock()
	out := make([]*flow, 0, len(t.m))
	for _, fl := range t.m {
		out = append(out, fl)
	}
	t.mu.Unlock()
	slices.SortFunc(out, func(a, b *flow) int { return int(a.id - b.id) })
	return out
}

// closeWhere cancels the flows for which pred is true and returns how
// many.
func (t *flowTable) closeWhere(pred func(*flow) bool) int {
	n := 0
	for _, fl := range t.snapshot() {
		if pred(fl) {
			fl.cancel()
			n++
		}
	}
	return n
}

// serveTCP accepts connections until the forward's context ends.
func (f *forward) serveTCP() {
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(f.ctx, func() { f.ln.Close() })
	defer stop()
	var backoff time.Duration
	for {
		c, err := f.ln.Accept()
		if err != nil {
			if f.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors, say: wait, never spin.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			f.g.log.Warn("accept failed; retrying", "forward", f.name(), "err", err, "in", backoff)
			select {
			case <-time.After(backoff):
			case <-f.ctx.Done():
			}
			continue
		}
		backoff = 0
		wg.Go(func() { f.handleTCP(c.(*net.TCPConn)) })
	}
}

func (f *forward) handleTCP(c *net.TCPConn) {
	g := f.g
	spec := f.spec.Load()
	client := c.RemoteAddr().(*net.TCPAddr).AddrPort()
	listen := c.LocalAddr().(*net.TCPAddr).AddrPort()
	in := Flow{Proto: TCP, Src: client, Dst: listen}
	v := g.decide(in)
	if v.Action != Allow {
		if v.Action == Reject {
			c.SetLinger(0) // close with a reset
		}
		c.Close()
		return
	}
	src := client.Addr().Unmap()
	if spec.MaxConns > 0 && f.active() >= spec.MaxConns {
		g.turnAway(c, in, fmt.Errorf("forward %s has %d flows open, the most max_conns allows", spec, spec.MaxConns))
		return
	}
	if err := f.srcs.admit(spec, src, false); err != nil {
		g.turnAway(c, in, err)
		return
	}
	defer f.srcs.release(src, false)

	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	fl := &flow{fwd: f, proto: TCP, client: client, listen: listen, rule: v.Rule, started: time.Now(), cancel: cancel, in: c}
	fl.connecting.Store(true)
	g.flows.add(fl)
	g.stats.opened.Add(1)
	defer func() {
		g.flows.remove(fl)
		g.stats.closed.Add(1)
	}()
	to := g.timeouts()
	up, t, err := f.dial(ctx, to.connect())
	if err != nil {
		g.stats.dialFailed.Add(1)
		g.log.Warn("target unreachable", "flow", in.String(), "forward", spec.String(), "err", err)
		c.SetLinger(0)
		c.Close()
		return
	}
	defer t.active.Add(-1)
	fl.out.Store(&outbound{local: up.LocalAddr().(*net.TCPAddr).AddrPort(), target: t.addr})
	if spec.ProxyV2 {
		if _, err := up.Write(AppendProxyV2(nil, TCP, client, listen)); err != nil {
			c.Close()
			up.Close()
			return
		}
	}
	fl.connecting.Store(false)
	_, err = relay.Relay(ctx, c, up, relay.Config{
		IdleTimeout:       to.tcpEst(),
		HalfClosedTimeout: to.tcpTrans(),
		NoSplice:          g.opts.NoSplice,
		Meter:             &fl.meter,
	})
	if err != nil && ctx.Err() == nil && !errors.Is(err, relay.ErrIdle) {
		g.log.Debug("flow ended", "flow", in.String(), "err", err)
	}
}

// dial connects to a target, trying the next when one fails.
func (f *forward) dial(ctx context.Context, timeout time.Duration) (*net.TCPConn, *target, error) {
	var errs []error
	for _, t := range f.pick() {
		t.active.Add(1)
		// No TCP keepalive: the flow table's idle timeouts end dead
		// flows, and the four setsockopt calls a socket would cost are
		// a fifth of a short flow's system calls.
		d := net.Dialer{Timeout: timeout, KeepAlive: -1}
		c, err := d.DialContext(ctx, "tcp", t.addr.String())
		if err == nil {
			return c.(*net.TCPConn), t, nil
		}
		t.active.Add(-1)
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, nil, errors.Join(errs...)
}

func (f *forward) active() int {
	n := 0
	for _, t := range *f.tgts.Load() {
		n += int(t.active.Load())
	}
	return n
}

// turnAway resets a connection that a limit refused, and counts and logs
// it.
func (g *Gateway) turnAway(c *net.TCPConn, fl Flow, why error) {
	g.stats.limited.Add(1)
	if g.denyLog.allow() {
		g.log.Warn("flow limited", "flow", fl.String(), "why", why.Error())
	}
	c.SetLinger(0)
	c.Close()
}

// A mapping is a UDP flow: a client endpoint's socket towards its target.
// It is keyed by the client's address and port alone, and all its
// datagrams go to the target it was given (endpoint-independent mapping,
// RFC 4787); the socket is connected, so only the target's replies come
// back through it (address- and port-dependent filtering).
type mapping struct {
	fl   *flow
	conn *net.UDPConn
}

// serveUDP reads the listener's datagrams until the forward's context
// ends.
func (f *forward) serveUDP() {
	g := f.g
	stop := context.AfterFunc(f.ctx, func() { f.pc.Close() })
	defer stop()
	var readers sync.WaitGroup
	defer readers.Wait()
	defer f.closeMappings()
	buf := make([]byte, 65536)
	for {
		n, client, err := f.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if f.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		f.mu.Lock()
		m := f.mappings[client]
		f.mu.Unlock()
		if m == nil {
			if m = f.newMapping(client, &readers); m == nil {
				g.stats.dropped.Add(1)
				continue
			}
		}
		m.fl.last.Store(time.Now().UnixNano())
		m.fl.bytesIn.Add(uint64(n))
		m.fl.pktsIn.Add(1)
		if _, err := m.conn.Write(buf[:n]); err != nil {
			g.stats.dropped.Add(1)
		}
	}
}

// newMapping decides a new client's first datagram and, if allowed,
// opens its mapping and a reader for the replies.
func (f *forward) newMapping(client netip.AddrPort, readers *sync.WaitGroup) *mapping {
	g := f.g
	spec := f.spec.Load()
	in := Flow{Proto: UDP, Src: client, Dst: f.bound}
	v := g.decide(in)
	if v.Action != Allow {
		return nil
	}
	if spec.MaxConns > 0 && f.mappingCount() >= spec.MaxConns {
		g.stats.limited.Add(1)
		return nil
	}
	if err := f.srcs.admit(spec, client.Addr().Unmap(), true); err != nil {
		g.stats.limited.Add(1)
		if g.denyLog.allow() {
			g.log.Warn("flow limited", "flow", in.String(), "why", err.Error())
		}
		return nil
	}
	var conn *net.UDPConn
	var t *target
	for _, t = range f.pick() {
		c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(t.addr))
		if err == nil {
			conn = c
			break
		}
	}
	if conn == nil {
		f.srcs.release(client.Addr().Unmap(), true)
		g.stats.dialFailed.Add(1)
		return nil
	}
	t.active.Add(1)
	ctx, cancel := context.WithCancel(f.ctx)
	fl := &flow{fwd: f, proto: UDP, client: client, listen: f.bound, rule: v.Rule, started: time.Now(), cancel: cancel}
	fl.out.Store(&outbound{local: conn.LocalAddr().(*net.UDPAddr).AddrPort(), target: t.addr})
	fl.last.Store(time.Now().UnixNano())
	m := &mapping{fl: fl, conn: conn}
	context.AfterFunc(ctx, func() { conn.Close() })
	f.mu.Lock()
	f.mappings[client] = m
	f.mu.Unlock()
	g.flows.add(fl)
	g.stats.opened.Add(1)
	readers.Go(func() {
		defer func() {
			f.mu.Lock()
			if f.mappings[client] == m {
				delete(f.mappings, client)
			}
			f.mu.Unlock()
			cancel()
			conn.Close()
			t.active.Add(-1)
			f.srcs.release(client.Addr().Unmap(), true)
			g.flows.remove(fl)
			g.stats.closed.Add(1)
		}()
		buf := make([]byte, 65536)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
					return
				}
				continue // an ICMP error for an earlier datagram
			}
			fl.last.Store(time.Now().UnixNano())
			fl.bytesOut.Add(uint64(n))
			fl.pktsOut.Add(1)
			f.pc.WriteToUDPAddrPort(buf[:n], client)
		}
	})
	return m
}

func (f *forward) mappingCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.mappings)
}

// expire ends the UDP mappings idle for timeout.
func (f *forward) expire(timeout time.Duration) {
	if f.proto != UDP {
		return
	}
	cutoff := time.Now().Add(-timeout).UnixNano()
	f.mu.Lock()
	var idle []*mapping
	for _, m := range f.mappings {
		if m.fl.last.Load() < cutoff {
			idle = append(idle, m)
		}
	}
	f.mu.Unlock()
	for _, m := range idle {
		m.fl.cancel()
	}
}

func (f *forward) closeMappings() {
	f.mu.Lock()
	ms := make([]*mapping, 0, len(f.mappings))
	for _, m := range f.mappings {
		ms = append(ms, m)
	}
	f.mu.Unlock()
	for _, m := range ms {
		m.fl.cancel()
	}
}
