package impair

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netkit-dev/netkit/internal/udpbuf"
)

// Proxy relays UDP datagrams between clients and one server through an
// impaired path: Up faults for what clients send, Down for what the
// server answers. Each client gets a session of its own (its own socket
// towards the server, so the server sees one peer per client); the two
// directions are each one Link that every session crosses, as a single
// path with one bottleneck would be, numbered from 1 in the order
// datagrams arrive.
type Proxy struct {
	// To is the server, host:port.
	To string
	// Up and Down are the faults of each direction.
	Up, Down Faults
	// Seed makes every random choice; the same seed and the same traffic
	// give the same decisions.
	Seed uint64
	// Idle ends a session that has carried nothing for this long
	// (default 60s); MaxSessions caps sessions (default 4096): datagrams
	// from further clients are dropped until one ends.
	Idle        time.Duration
	MaxSessions int
	// FollowPort sends a client's datagrams to the port the server last
	// answered it from, as TFTP needs (the server answers from a port of
	// its own for each transfer, RFC 1350's TID). Without it, datagrams
	// from any other port than To's are dropped.
	FollowPort bool
	// Decided, if set, is told of each decision ("up" or "down"), in
	// order for each direction. It must not block for long.
	Decided func(dir string, client netip.AddrPort, d Decision)
	// Path, if set, is the path the proxy's datagrams cross, shared with
	// other proxies (one bottleneck for flows to several servers); Up,
	// Down and Seed are then the Path's. If nil, the proxy has its own.
	Path *Path

	mu       sync.Mutex
	sessions map[netip.AddrPort]*session
	path     *Path
	refused  atomic.Uint64
	total    atomic.Uint64
}

// Path is the two directions of an impaired path: the Links, and the
// clock that sends what they delay. Several proxies may share one.
type Path struct {
	mu       sync.Mutex
	up, down *Link
	start    time.Time
	clock    *RealClock
	users    int
}

// NewPath makes a path with faults each way, its choices drawn from seed.
func NewPath(up, down Faults, seed uint64) *Path {
	return &Path{up: NewLink(up, seed), down: NewLink(down, seed+1), start: time.Now()}
}

func (pa *Path) acquire() {
	pa.mu.Lock()
	defer pa.mu.Unlock()
	if pa.users == 0 {
		pa.clock = NewRealClock()
	}
	pa.users++
}

func (pa *Path) release() {
	pa.mu.Lock()
	defer pa.mu.Unlock()
	if pa.users--; pa.users == 0 {
		pa.clock.Close()
	}
}

// Counters returns what each direction has done so far.
func (pa *Path) Counters() (up, down Counters) {
	pa.mu.Lock()
	defer pa.mu.Unlock()
	return pa.up.Counters(), pa.down.Counters()
}

// SetFaults changes the faults from the next datagram on.
func (pa *Path) SetFaults(up, down Faults) {
	pa.mu.Lock()
	defer pa.mu.Unlock()
	pa.up.SetFaults(up)
	pa.down.SetFaults(down)
}

type session struct {
	client   netip.AddrPort
	conn     *net.UDPConn
	server   atomic.Pointer[netip.AddrPort] // where its datagrams go
	lastUsed atomic.Int64
}

// Stats are a Proxy's counters.
type Stats struct {
	Up       Counters `json:"up"`
	Down     Counters `json:"down"`
	Sessions uint64   `json:"sessions"`         // sessions opened
	Refused  uint64   `json:"sessions_refused"` // datagrams dropped at MaxSessions
}

// SetFaults changes the faults of a running proxy, from the next
// datagram on.
func (p *Proxy) SetFaults(up, down Faults) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.Up, p.Down = up, down
	if p.path != nil {
		p.path.SetFaults(up, down)
	}
}

// Stats returns the counters so far.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	var st Stats
	if p.path != nil {
		st.Up, st.Down = p.path.Counters()
	}
	st.Sessions, st.Refused = p.total.Load(), p.refused.Load()
	return st
}

// socketBuffer is asked of the kernel for each of the relay's sockets,
// so that a burst waits in the buffer for the faults to decide its fate
// rather than being dropped for want of room (4 MiB: 20 ms of a
// 1.6 Gbit/s burst).
const socketBuffer = 4 << 20

// Serve relays the datagrams that arrive on pc until ctx ends, then
// closes every session and pc.
func (p *Proxy) Serve(ctx context.Context, pc *net.UDPConn) error {
	udpbuf.Size(pc, socketBuffer) // drops are for the faults to decide, not a full buffer
	to, err := net.ResolveUDPAddr("udp", p.To)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.sessions = map[netip.AddrPort]*session{}
	p.path = p.Path
	if p.path == nil {
		p.path = NewPath(p.Up, p.Down, p.Seed)
	}
	path := p.path
	p.mu.Unlock()
	path.acquire()
	defer path.release()
	idle := p.Idle
	if idle <= 0 {
		idle = time.Minute
	}
	stop := context.AfterFunc(ctx, func() { pc.Close() })
	defer stop()
	go p.expire(ctx, idle)
	defer p.closeAll()
	buf := make([]byte, 65536)
	for {
		n, from, err := pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			continue // an ICMP error from an earlier send: not fatal
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		s := p.session(ctx, pc, from, to)
		if s == nil {
			p.refused.Add(1)
			continue
		}
		s.lastUsed.Store(time.Now().UnixNano())
		p.relay("up", from, buf[:n], func(b []byte) { s.conn.WriteToUDPAddrPort(b, *s.server.Load()) })
	}
}

// relay decides the fate of one datagram and schedules its copies.
func (p *Proxy) relay(dir string, client netip.AddrPort, b []byte, send func([]byte)) {
	pkt := append([]byte(nil), b...)
	now := time.Now()
	pa := p.path
	pa.mu.Lock()
	link := pa.up
	if dir == "down" {
		link = pa.down
	}
	d := link.Decide(pkt, now.Sub(pa.start))
	clock := pa.clock
	pa.mu.Unlock()
	if p.Decided != nil {
		p.Decided(dir, client, d)
	}
	for _, delay := range d.Delays {
		if delay == 0 {
			send(pkt)
			continue
		}
		clock.Schedule(now.Add(delay), func() { send(pkt) })
	}
}

func (p *Proxy) session(ctx context.Context, pc *net.UDPConn, from netip.AddrPort, to *net.UDPAddr) *session {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.sessions[from]; s != nil {
		return s
	}
	limit := p.MaxSessions
	if limit <= 0 {
		limit = 4096
	}
	if len(p.sessions) >= limit {
		return nil
	}
	network := "udp4"
	if to.IP.To4() == nil {
		network = "udp6"
	}
	c, err := net.ListenUDP(network, nil)
	if err != nil {
		return nil
	}
	udpbuf.Size(c, socketBuffer)
	server := to.AddrPort()
	server = netip.AddrPortFrom(server.Addr().Unmap(), server.Port())
	s := &session{client: from, conn: c}
	s.server.Store(&server)
	p.sessions[from] = s
	p.total.Add(1)
	go func() {
		buf := make([]byte, 65536)
		for {
			n, src, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
			switch {
			case src == *s.server.Load():
			case p.FollowPort && src.Addr() == server.Addr():
				s.server.Store(&src) // the server's own port for this client
			default:
				continue // not the server
			}
			s.lastUsed.Store(time.Now().UnixNano())
			p.relay("down", from, buf[:n], func(b []byte) { pc.WriteToUDPAddrPort(b, from) })
		}
	}()
	return s
}

func (p *Proxy) expire(ctx context.Context, idle time.Duration) {
	t := time.NewTicker(min(idle/2, time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			p.mu.Lock()
			for k, s := range p.sessions {
				if now.UnixNano()-s.lastUsed.Load() > int64(idle) {
					s.conn.Close()
					delete(p.sessions, k)
				}
			}
			p.mu.Unlock()
		}
	}
}

func (p *Proxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, s := range p.sessions {
		s.conn.Close()
		delete(p.sessions, k)
	}
}
