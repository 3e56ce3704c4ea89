package rudp

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

const (
	cookieLen = 16 // server id, time, MAC
	cookieTTL = 30 * time.Second
	// socketBuffer is asked of the kernel for each socket's receive and
	// send buffers: bursts of a large window must not overflow them.
	socketBuffer = 4 << 20
)

// Listener accepts connections on one UDP socket. The connections share
// the socket and end with the listener.
type Listener struct {
	cfg    Config
	pc     *net.UDPConn
	secret [32]byte
	accept chan *Conn

	mu     sync.Mutex
	conns  map[uint32]*Conn
	closed bool
	done   chan struct{}
	stats  ListenerStats
}

// ListenerStats count what a listener saw.
type ListenerStats struct {
	Handshakes  uint64 `json:"handshakes"`
	BadCookies  uint64 `json:"bad_cookies"`
	Corrupted   uint64 `json:"corrupted_dropped"`
	Resets      uint64 `json:"resets_sent"`
	AcceptFull  uint64 `json:"accept_queue_full"`
	KernelDrops uint64 `json:"kernel_drops"`
}

// Listen opens a listener on a UDP address ("127.0.0.1:9000"; port 0
// picks one).
func Listen(network, address string, cfg Config) (*Listener, error) {
	addr, err := net.ResolveUDPAddr(network, address)
	if err != nil {
		return nil, err
	}
	pc, err := net.ListenUDP(network, addr)
	if err != nil {
		return nil, err
	}
	return NewListener(pc, cfg), nil
}

// NewListener serves connections on pc, which it owns from then on.
func NewListener(pc *net.UDPConn, cfg Config) *Listener {
	sizeBuffers(pc)
	l := &Listener{cfg: cfg.withDefaults(), pc: pc, accept: make(chan *Conn, 128), conns: map[uint32]*Conn{}, done: make(chan struct{})}
	rand.Read(l.secret[:])
	go l.read()
	return l
}

// Addr is the listener's UDP address.
func (l *Listener) Addr() net.Addr { return l.pc.LocalAddr() }

// Stats returns the listener's counters.
func (l *Listener) Stats() ListenerStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	s.KernelDrops = kernelDrops(l.pc)
	return s
}

// Accept waits for the next connection.
func (l *Listener) Accept() (net.Conn, error) { return l.AcceptRUDP(context.Background()) }

// AcceptRUDP waits for the next connection or the end of ctx.
func (l *Listener) AcceptRUDP(ctx context.Context) (*Conn, error) {
	select {
	case c := <-l.accept:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close stops the listener and ends its connections.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return net.ErrClosed
	}
	l.closed = true
	close(l.done)
	conns := l.conns
	l.conns = map[uint32]*Conn{}
	l.mu.Unlock()
	for _, c := range conns {
		c.mu.Lock()
		c.fail(net.ErrClosed)
		c.mu.Unlock()
	}
	return l.pc.Close()
}

func (l *Listener) cookie(client netip.AddrPort, clientID, serverID, at uint32) []byte {
	b := make([]byte, 8, cookieLen)
	binary.BigEndian.PutUint32(b, serverID)
	binary.BigEndian.PutUint32(b[4:], at)
	m := hmac.New(sha256.New, l.secret[:])
	a := client.Addr().As16()
	m.Write(a[:])
	binary.Write(m, binary.BigEndian, client.Port())
	binary.Write(m, binary.BigEndian, clientID)
	m.Write(b)
	return m.Sum(b)[:cookieLen]
}

// read demultiplexes the socket's datagrams: handshakes here, the rest
// to their connections.
func (l *Listener) read() {
	r := newBatchReader(l.pc)
	for {
		err := r.read(l.handle)
		if err != nil && errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

// handle takes one datagram that arrived on the listener's socket.
func (l *Listener) handle(b []byte, from netip.AddrPort) {
	var p packet
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	if err := p.decode(b); err != nil {
		l.mu.Lock()
		l.stats.Corrupted++
		l.mu.Unlock()
		return
	}
	switch p.kind {
	case kindSyn:
		var id [4]byte
		rand.Read(id[:])
		sid := binary.BigEndian.Uint32(id[:]) | 1
		reply := packet{kind: kindSynAck, conn: p.conn, tsecr: p.tsval, flags: fecFlags(l.cfg),
			payload: l.cookie(from, p.conn, sid, uint32(time.Now().Unix()))}
		l.pc.WriteToUDPAddrPort(reply.appendTo(nil), from)
	case kindCookie:
		l.handshake(&p, from)
	default:
		l.mu.Lock()
		c := l.conns[p.conn]
		l.mu.Unlock()
		if c == nil || c.remote.(*net.UDPAddr).AddrPort() != from {
			if p.kind != kindReset {
				l.mu.Lock()
				l.stats.Resets++
				l.mu.Unlock()
				r := packet{kind: kindReset, conn: p.conn}
				l.pc.WriteToUDPAddrPort(r.appendTo(nil), from)
			}
			return
		}
		c.input(&p)
	}
}

// handshake checks a returned cookie and opens the connection it names.
func (l *Listener) handshake(p *packet, from netip.AddrPort) {
	if len(p.payload) != cookieLen+4 {
		return
	}
	ck, clientID := p.payload[:cookieLen], binary.BigEndian.Uint32(p.payload[cookieLen:])
	sid, at := binary.BigEndian.Uint32(ck), binary.BigEndian.Uint32(ck[4:])
	age := time.Since(time.Unix(int64(at), 0))
	l.mu.Lock()
	defer l.mu.Unlock()
	if !hmac.Equal(ck, l.cookie(from, clientID, sid, at)) || age < -time.Second || age > cookieTTL || sid != p.conn {
		l.stats.BadCookies++
		return
	}
	if c := l.conns[sid]; c != nil {
		c.input(p) // a repeat: acknowledge it again
		return
	}
	if l.closed || len(l.accept) == cap(l.accept) {
		l.stats.AcceptFull++
		return // the client tries again
	}
	remote := net.UDPAddrFromAddrPort(from)
	c := newConn(l.cfg, l.pc.LocalAddr(), remote, sid, clientID, p.flags, newBatchWriter(l.pc, from).write,
		func() { l.mu.Lock(); delete(l.conns, sid); l.mu.Unlock() })
	c.drops = func() uint64 { return kernelDrops(l.pc) }
	l.conns[sid] = c
	l.stats.Handshakes++
	c.mu.Lock()
	c.ackNow = true
	c.mu.Unlock()
	c.poke()
	l.accept <- c
}

// Dial opens a connection to a listener at address.
func Dial(ctx context.Context, network, address string, cfg Config) (*Conn, error) {
	cfg = cfg.withDefaults()
	raddr, err := net.ResolveUDPAddr(network, address)
	if err != nil {
		return nil, err
	}
	pc, err := net.DialUDP(network, nil, raddr)
	if err != nil {
		return nil, err
	}
	sizeBuffers(pc)
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, cfg.HandshakeTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { pc.SetReadDeadline(time.Now()) })
	defer stop()
	var id [4]byte
	rand.Read(id[:])
	clientID := binary.BigEndian.Uint32(id[:]) | 1

	buf := make([]byte, 65536)
	var p packet
	// exchange sends msg every wait (doubling) until a packet that ok
	// accepts comes back.
	exchange := func(msg []byte, ok func(*packet) bool) error {
		wait := 200 * time.Millisecond
		for {
			if _, err := pc.Write(msg); err != nil && ctx.Err() == nil && !isRefused(err) {
				return err
			}
			pc.SetReadDeadline(time.Now().Add(wait))
			for {
				n, err := pc.Read(buf)
				if parent.Err() != nil {
					return parent.Err()
				}
				if ctx.Err() != nil {
					return fmt.Errorf("rudp: %s gave no answer to the handshake in %s: %w", address, cfg.HandshakeTimeout, ErrNoAnswer)
				}
				if err != nil {
					if isRefused(err) {
						time.Sleep(min(wait, time.Until(deadlineOf(ctx))))
					}
					break // time to send again
				}
				if p.decode(buf[:n]) == nil && ok(&p) {
					return nil
				}
			}
			wait = min(2*wait, 2*time.Second)
		}
	}
	syn := packet{kind: kindSyn, conn: clientID, window: uint32(cfg.Window), tsval: 1, flags: fecFlags(cfg)}
	var cookie []byte
	var serverFlags byte
	if err := exchange(syn.appendTo(nil), func(p *packet) bool {
		if p.kind == kindSynAck && p.conn == clientID && len(p.payload) == cookieLen {
			cookie = append([]byte(nil), p.payload...)
			serverFlags = p.flags
			return true
		}
		return false
	}); err != nil {
		pc.Close()
		return nil, err
	}
	serverID := binary.BigEndian.Uint32(cookie)
	echo := packet{kind: kindCookie, conn: serverID, window: uint32(cfg.Window), tsval: 1, flags: fecFlags(cfg),
		payload: binary.BigEndian.AppendUint32(cookie, clientID)}
	var first *packet
	if err := exchange(echo.appendTo(nil), func(p *packet) bool {
		if p.conn != clientID {
			return false
		}
		if p.kind == kindReset {
			return true
		}
		if p.kind == kindAck || p.kind == kindData {
			q := *p
			q.payload = append([]byte(nil), p.payload...)
			q.sack = append([]block(nil), p.sack...)
			first = &q
			return true
		}
		return false
	}); err != nil {
		pc.Close()
		return nil, err
	}
	if first == nil {
		pc.Close()
		return nil, ErrReset
	}
	pc.SetReadDeadline(time.Time{})
	c := newConn(cfg, pc.LocalAddr(), pc.RemoteAddr(), clientID, serverID, serverFlags, newBatchWriter(pc, netip.AddrPort{}).write, func() { pc.Close() })
	c.drops = func() uint64 { return kernelDrops(pc) }
	c.input(first)
	go func() {
		r := newBatchReader(pc)
		var p packet
		take := func(b []byte, _ netip.AddrPort) {
			if err := p.decode(b); err != nil {
				c.mu.Lock()
				c.stats.Corrupted++
				c.mu.Unlock()
				return
			}
			if p.conn == clientID {
				c.input(&p)
			}
		}
		for {
			if err := r.read(take); err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				if isRefused(err) {
					c.refused()
				}
			}
		}
	}()
	return c, nil
}

func deadlineOf(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

// fecFlags are the handshake flags that say what this side does with
// parity: it always decodes it, and sends it when cfg.FEC asks.
func fecFlags(cfg Config) byte {
	if cfg.FEC {
		return flagFEC | flagFECSend
	}
	return flagFEC
}
