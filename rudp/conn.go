package rudp

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// Config tunes connections. The zero value is the default for every
// field.
type Config struct {
	// Datagram is the size of the UDP payloads sent, headers included
	// (default 1400, which crosses any path with an MTU of 1500 or an
	// IPv6 minimum of 1280 plus tunnels; at most 65000).
	Datagram int
	// SendBuffer bounds the bytes that Write queues ahead of the peer's
	// acknowledgements (default 8 MiB). Of those, the bytes not yet sent
	// are held to two congestion windows' worth (at least 512 KiB).
	SendBuffer int
	// Window is the receive window, in packets (default 4096).
	Window int
	// HandshakeTimeout bounds Dial (default 10s).
	HandshakeTimeout time.Duration
	// KeepAlive is the silence after which the peer is asked to answer
	// (default 5s); IdleTimeout the silence after which it is given up
	// for gone (default 30s).
	KeepAlive, IdleTimeout time.Duration
	// Linger bounds how long a closed connection keeps sending what was
	// written before Close (default 30s).
	Linger time.Duration
	// Congestion is the congestion controller: "bbr" (the default) or
	// "cubic".
	Congestion string
	// FEC sends parity packets after each group of FECGroup data
	// packets (default 8, at most 32), as many as the measured loss
	// calls for, when the peer decodes them (every netkit peer says so in
	// its handshake): the receiver rebuilds lost packets without waiting a
	// round trip. Each side decides for its own direction.
	FEC      bool
	FECGroup int
	// Trace, if set, is told of each packet sent and received and each
	// loss found. It is called with the connection's lock held: it must
	// be quick and must not call the connection.
	Trace func(TraceEvent)

	// For the simulation tests: the clock the connection reads (time.Now
	// if nil); manual, which starts no goroutine: the test calls tick and
	// input itself, on a virtual clock; and the seed of the congestion
	// controller's random choices (random if 0).
	clock  func() time.Time
	manual bool
	seed   uint64
}

func newController(cfg Config) controller {
	if cfg.Congestion == "cubic" {
		return cubicController{newCubic(cfg.Window)}
	}
	return newBBR(cfg.Window, cfg.seed)
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.clock == nil {
		c.clock = time.Now
	}
	def(&c.Datagram, 1400)
	c.Datagram = min(max(c.Datagram, 128), 65000)
	def(&c.SendBuffer, 8<<20)
	def(&c.Window, 4096)
	def(&c.FECGroup, 8)
	c.FECGroup = min(c.FECGroup, maxFECGroup)
	defd(&c.HandshakeTimeout, 10*time.Second)
	defd(&c.KeepAlive, 5*time.Second)
	defd(&c.IdleTimeout, 30*time.Second)
	defd(&c.Linger, 30*time.Second)
	return c
}

// TraceEvent is one step of a connection's life, for Config.Trace.
type TraceEvent struct {
	At     time.Duration // since the connection began
	Event  string        // send, resend, recv, gap, ack, lost, timeout, parity, recover
	Seq    uint32        // the data packet's number
	Ack    uint32        // acknowledgements: every number below Ack arrived...
	SACK   [][2]uint32   // ...and these runs above it, [start, end)
	Size   int           // payload bytes
	Reason string        // why a packet was declared lost or resent
}

// Stats count what a connection did.
type Stats struct {
	Sent          uint64 `json:"packets_sent"`
	Retransmitted uint64 `json:"retransmitted"`
	// Spurious counts packets sent again whose first copy arrived after
	// all (reordering, not loss).
	Spurious      uint64        `json:"spurious_retransmissions"`
	Received      uint64        `json:"packets_received"`
	Duplicates    uint64        `json:"duplicates_received"`
	OutOfOrder    uint64        `json:"out_of_order"`
	Corrupted     uint64        `json:"corrupted_dropped"`
	Timeouts      uint64        `json:"timeouts"`
	BytesSent     uint64        `json:"bytes_sent"`
	BytesReceived uint64        `json:"bytes_received"`
	SRTT          time.Duration `json:"srtt_ns"`
	Cwnd          int           `json:"cwnd_packets"`
	// KernelDrops counts datagrams this host's kernel dropped because the
	// socket's buffer was full: not losses on the path. A listener's
	// connections share its socket, and its count.
	KernelDrops uint64 `json:"kernel_drops"`
	// FECSent counts parity packets sent; FECRecovered data packets
	// rebuilt from parity received.
	FECSent      uint64 `json:"fec_sent"`
	FECRecovered uint64 `json:"fec_recovered"`
	// AppLimited counts packets (resends included) sent while the writer
	// had nothing more queued and the window had room: their
	// delivery-rate samples say little about the path, and BBR does not
	// let them lower its bandwidth estimate.
	AppLimited uint64 `json:"app_limited_sent"`
}

// segment is a data packet the sender keeps until it is acknowledged.
type segment struct {
	seq      uint32
	txFlight int // packets in flight when it was first sent (a resend goes out at a smaller flight, during recovery)
	data     []byte
	fin      bool
	sentAt   time.Time
	sends    int
	sacked   bool
	lost     bool // declared lost and not yet sent again
	flying   bool // counted in flight
	// For delivery rate samples: what had been delivered, and when, as
	// it was sent; whether the sender had run out of data then.
	delivered   uint64
	deliveredAt time.Time
	firstSentAt time.Time
	appLimited  bool
}

// rateMark is what a delivery rate sample needs of the packet it ends
// at, copied: the packet's segment goes back to the pool once acknowledged.
type rateMark struct {
	ok          bool
	sentAt      time.Time
	delivered   uint64
	deliveredAt time.Time
	firstSentAt time.Time
	appLimited  bool
}

// rseg is a data packet kept for forward error correction.
type rseg struct {
	data []byte
	fin  bool
}

var (
	// ErrPeerSilent: nothing came from the peer for Config.IdleTimeout.
	ErrPeerSilent = errors.New("rudp: the peer has been silent too long")
	// ErrReset: the peer reset the connection (it no longer knows it).
	ErrReset = errors.New("rudp: connection reset by the peer")
	// ErrNoAnswer: nothing answered the handshake within
	// Config.HandshakeTimeout: no listener there, or a path that drops UDP.
	ErrNoAnswer = errors.New("no rudp listener answered")
	// ErrRefused: the peer's port is unreachable; its socket is gone.
	ErrRefused = errors.New("rudp: the peer's port is unreachable (ICMP)")
)

// Conn is a reliable, ordered byte stream over UDP. It implements
// net.Conn. Data is not encrypted: use QUIC (quic-go) when
// confidentiality matters.
type Conn struct {
	cfg           Config
	local, remote net.Addr
	out           func([][]byte) error // sends; must not keep the datagrams: the next tick builds over them
	outBuf        [][]byte             // the datagrams of the last tick, kept for the next to reuse
	release       func()
	id, peerID    uint32
	start         time.Time
	mss           int
	wake          chan struct{}
	ended         chan struct{}
	drops         func() uint64

	mu      sync.Mutex
	changed chan struct{}
	waiting bool  // someone waits on changed: broadcast must close it
	err     error // the connection is over: every call returns it
	closed  bool  // Close was called
	done    bool  // the run loop has ended
	stats   Stats

	// sending
	pending     segQueue // written, not yet sent
	finQueued   bool
	finSent     bool
	segs        []*segment // sndUna .. sndNext-1, in order
	segBytes    int        // bytes in segs
	lostCount   int        // segs declared lost and not sent again
	sndUna      uint32
	sndNext     uint32
	flight      int
	peerWindow  uint32
	rtt         rttEstimator
	cc          controller
	allow       int       // packets past the window this once (a probe)
	delivered   uint64    // packets delivered so far
	deliveredAt time.Time // when the last of them was
	rtoAt       time.Time
	probeAt     time.Time // tail loss probe (RACK-TLP, RFC 8985)
	probe       bool      // send one packet past the congestion window
	rackSent    time.Time // the latest send time among packets delivered
	ackLatest   rateMark  // of the packets an ACK delivers, the one sent last
	rackAt      time.Time // when to look for losses again
	highSacked  uint32
	// Reordering (RFC 8985): once a packet is seen to arrive after a
	// later one, losses are no longer judged by counting later packets,
	// only by time; and each loss that proves spurious (the original
	// arrived after all) widens the time window, up to an RTT.
	reorderSeen bool
	reoMult     int
	reoPersist  int // loss detections left before reoMult goes back to 1
	tokens      float64
	lastFill    time.Time

	// receiving
	rcvNext    uint32
	ooo        map[uint32]*segment // received out of order, by number; only data and fin set
	highRcvd   uint32
	lastArr    uint32
	sackRecent []uint32 // a packet of each run the last acknowledgement reported
	sackDirty  []uint32 // a packet of each run that grew since it was last reported
	arena      []byte   // the datagrams of this tick (see build)
	readBuf    []byte
	readOff    int
	eof        bool
	ackOwed    int
	ackNow     bool
	ackAt      time.Time
	echoTS     uint32
	lastRecv   time.Time
	refusals   int
	lastPing   time.Time
	advertised uint32

	readDeadline, writeDeadline time.Time
	lingerUntil                 time.Time

	fecOut fecSender
	fecIn  fecReceiver
}

// newConn makes a connection; peerFlags are the flags of the peer's
// handshake packet, which say whether it decodes and sends parity.
func newConn(cfg Config, local, remote net.Addr, id, peerID uint32, peerFlags byte, out func([][]byte) error, release func()) *Conn {
	cfg = cfg.withDefaults()
	now := cfg.clock()
	c := &Conn{
		cfg: cfg, local: local, remote: remote, out: out, release: release,
		id: id, peerID: peerID, start: now, deliveredAt: now,
		mss:      cfg.Datagram - headerLen - 8*maxSack - trailerLen,
		wake:     make(chan struct{}, 1),
		ended:    make(chan struct{}),
		changed:  make(chan struct{}),
		ooo:      map[uint32]*segment{},
		cc:       newController(cfg),
		lastRecv: now, lastPing: now,
		peerWindow: uint32(cfg.Window),
		advertised: uint32(cfg.Window),
		// Packets are numbered from 1 each way: the first data packet is
		// packet 1, and an acknowledgement of 1 says none has arrived.
		sndUna: 1, sndNext: 1, rcvNext: 1, highRcvd: 1,
	}
	c.fecOut.on, c.fecOut.k = cfg.FEC && peerFlags&flagFEC != 0, cfg.FECGroup
	if peerFlags&flagFECSend != 0 {
		c.fecIn.recent, c.fecIn.groups, c.fecIn.member = map[uint32]rseg{}, map[uint32]*fecGroup{}, map[uint32]uint32{}
	}
	if !cfg.manual {
		go c.run()
	}
	return c
}

func (c *Conn) now() time.Time { return c.cfg.clock() }

func (c *Conn) ts(t time.Time) uint32 { return uint32(t.Sub(c.start).Microseconds()) | 1 }

func (c *Conn) trace(ev TraceEvent) {
	if c.cfg.Trace != nil {
		ev.At = c.now().Sub(c.start)
		c.cfg.Trace(ev)
	}
}

// broadcast wakes every Read and Write waiting for a change; c.mu held.
func (c *Conn) broadcast() {
	if c.waiting {
		close(c.changed)
		c.changed, c.waiting = make(chan struct{}), false
	}
}

func (c *Conn) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// fail ends the connection with err; c.mu held.
func (c *Conn) fail(err error) {
	if c.err == nil {
		c.err = err
	}
	c.broadcast()
	c.poke()
}

// Read reads the bytes that arrived in order; io.EOF once the peer has
// closed and everything before has been read.
func (c *Conn) Read(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if c.closed {
			return 0, net.ErrClosed
		}
		if expired(c.readDeadline) {
			return 0, os.ErrDeadlineExceeded
		}
		if n := len(c.readBuf) - c.readOff; n > 0 {
			if len(b) == 0 {
				return 0, nil
			}
			k := copy(b, c.readBuf[c.readOff:])
			c.readOff += k
			if c.readOff == len(c.readBuf) {
				c.readBuf, c.readOff = c.readBuf[:0], 0
			}
			// Tell the peer when a window it saw as nearly shut opens.
			if w := c.window(); c.advertised < uint32(c.cfg.Window)/4 && w >= uint32(c.cfg.Window)/2 {
				c.ackNow = true
				c.poke()
			}
			return k, nil
		}
		if c.eof {
			return 0, io.EOF
		}
		if c.err != nil {
			return 0, c.err
		}
		if err := c.wait(c.readDeadline); err != nil {
			return 0, err
		}
	}
}

func expired(deadline time.Time) bool { return !deadline.IsZero() && !time.Now().Before(deadline) }

// wait releases c.mu until something changes or the deadline passes.
func (c *Conn) wait(deadline time.Time) error {
	if !deadline.IsZero() && !time.Now().Before(deadline) {
		return os.ErrDeadlineExceeded
	}
	ch := c.changed
	c.waiting = true
	c.mu.Unlock()
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ch:
	case <-timeout:
	}
	c.mu.Lock()
	return nil
}

// Write queues b for sending, waiting while the send buffer is full.
func (c *Conn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for {
		switch {
		case c.closed:
			return n, net.ErrClosed
		case c.finQueued:
			return n, errors.New("rudp: write after CloseWrite")
		case c.err != nil:
			return n, c.err
		case expired(c.writeDeadline):
			return n, os.ErrDeadlineExceeded
		}
		if n == len(b) {
			return n, nil
		}
		if room := c.room(); room > 0 {
			k := min(room, len(b)-n)
			c.pending.push(b[n:n+k], c.mss)
			n += k
			c.poke()
			continue
		}
		if err := c.wait(c.writeDeadline); err != nil {
			return n, err
		}
	}
}

// room is how many bytes a Write may queue now; c.mu held.
func (c *Conn) room() int {
	return min(c.cfg.SendBuffer-c.buffered(), c.unsentLimit()-c.pending.n)
}

// unsentLimit bounds the bytes written and not yet sent: two windows'
// worth, at least 512 KiB. The send buffer bounds the rest, but filling
// it at once at the start, while the window is ten packets, would cost
// megabytes of fresh pages the path cannot use for many round trips.
func (c *Conn) unsentLimit() int { return max(2*c.cwnd()*c.mss, 512<<10) }

// buffered counts the bytes written and not yet acknowledged.
func (c *Conn) buffered() int {
	return c.pending.n + c.segBytes
}

// CloseWrite ends the stream this side sends: the peer reads io.EOF after
// the last byte. Reading goes on.
func (c *Conn) CloseWrite() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	c.finQueued = true
	c.poke()
	return nil
}

// Close ends the connection: what was written is still delivered, in the
// background, for up to Config.Linger; Read and Write return
// net.ErrClosed.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	c.closed, c.finQueued = true, true
	c.lingerUntil = c.now().Add(c.cfg.Linger)
	c.broadcast()
	c.poke()
	return nil
}

// LocalAddr is the local UDP address.
func (c *Conn) LocalAddr() net.Addr { return c.local }

// RemoteAddr is the peer's UDP address.
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

// SetDeadline sets both deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readDeadline, c.writeDeadline = t, t
	c.broadcast()
	return nil
}

// SetReadDeadline bounds Read.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readDeadline = t
	c.broadcast()
	return nil
}

// SetWriteDeadline bounds Write.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writeDeadline = t
	c.broadcast()
	return nil
}

// Stats returns the counters so far.
func (c *Conn) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.SRTT, s.Cwnd = c.rtt.srtt, int(c.cc.window())
	if c.drops != nil {
		s.KernelDrops = c.drops()
	}
	return s
}

// window is the receive window to advertise, in packets; c.mu held.
func (c *Conn) window() uint32 {
	// The window counts from rcvNext, as TCP's does: packets held out of
	// order already sit inside it, so only the in-order bytes the
	// application has not read shrink it. (Subtracting the out-of-order
	// packets too counted them twice, against a sender that measures
	// from its oldest unacknowledged packet: at 5% loss the window shut
	// whenever a hole was old.)
	used := (len(c.readBuf) - c.readOff + c.mss - 1) / c.mss
	return uint32(max(c.cfg.Window-used, 0))
}

// input handles one packet from the peer.
func (c *Conn) input(p *packet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return
	}
	now := c.now()
	c.lastRecv = now
	c.refusals = 0
	c.stats.Received++
	switch p.kind {
	case kindReset:
		c.fail(ErrReset)
		return
	case kindCookie, kindSynAck:
		c.ackNow = true // our acknowledgement of the handshake was lost
		c.poke()
		return
	}
	if p.flags&flagAckReq != 0 {
		c.ackNow = true
	}
	c.onAck(p, now)
	switch p.kind {
	case kindData:
		c.onData(p, now)
		c.fecRecord(p)
	case kindParity:
		c.onParity(p, now)
	}
	c.poke()
}

// onData takes a data packet; c.mu held.
func (c *Conn) onData(p *packet, now time.Time) {
	fin := p.flags&flagFin != 0
	c.trace(TraceEvent{Event: "recv", Seq: p.seq, Size: len(p.payload)})
	if p.tsval != 0 { // 0: rebuilt from parity, not a packet of its own
		c.echoTS = p.tsval
	}
	switch {
	case before(p.seq, c.rcvNext):
		c.stats.Duplicates++
		c.ackNow = true // our acknowledgement may have been lost
		return
	case p.seq != c.rcvNext:
		if _, dup := c.ooo[p.seq]; dup {
			c.stats.Duplicates++
		} else if p.seq-c.rcvNext < uint32(c.cfg.Window) {
			if len(c.ooo) == 0 {
				c.trace(TraceEvent{Event: "gap", Seq: c.rcvNext, Reason: "a packet after it arrived first"})
			}
			r := newSegment(max(len(p.payload), c.mss))
			r.data, r.fin = append(r.data, p.payload...), fin
			c.ooo[p.seq] = r
			if n := len(c.sackDirty); n > 0 && c.sackDirty[n-1] == p.seq-1 {
				c.sackDirty[n-1] = p.seq // the same run, grown
			} else {
				c.sackDirty = append(c.sackDirty, p.seq)
			}
			c.stats.OutOfOrder++
			if before(c.highRcvd, p.seq+1) {
				c.highRcvd = p.seq + 1
			}
		}
		c.lastArr = p.seq
		c.ackNow = true
		return
	}
	c.deliver(p.payload, fin)
	c.rcvNext++
	filled := false
	for {
		r, ok := c.ooo[c.rcvNext]
		if !ok {
			break
		}
		delete(c.ooo, c.rcvNext)
		c.deliver(r.data, r.fin)
		freeSegment(r)
		c.rcvNext++
		filled = true
	}
	c.lastArr = p.seq
	c.ackOwed++
	if filled || fin || len(c.ooo) > 0 || c.ackOwed >= 2 {
		c.ackNow = true
	} else if c.ackAt.IsZero() {
		c.ackAt = now.Add(time.Millisecond)
	}
}

func (c *Conn) deliver(b []byte, fin bool) {
	if c.eof {
		return
	}
	if !c.closed {
		c.readBuf = append(c.readBuf, b...)
	}
	c.stats.BytesReceived += uint64(len(b))
	if fin {
		c.eof = true
	}
	c.broadcast()
}

// sackBlocks lists up to four runs received above the cumulative
// acknowledgement, much as RFC 2018 orders them: the run holding the
// latest arrival first, then runs that grew since they were last
// reported (a batch of datagrams read at once can open several), then
// the runs the last acknowledgement reported (so that a run that stopped
// growing is reported in full a few more times, whatever the holes below
// it), then the lowest runs. A sender that never hears of a packet sends
// it again; c.mu held.
func (c *Conn) sackBlocks() []block {
	if len(c.ooo) == 0 {
		c.sackRecent, c.sackDirty = c.sackRecent[:0], c.sackDirty[:0]
		return nil
	}
	out := make([]block, 0, maxSack)
	add := func(r block) {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	addAt := func(s uint32) {
		if r, ok := c.runAt(s); ok {
			add(r)
		}
	}
	addAt(c.lastArr)
	for _, s := range c.sackDirty {
		if len(out) == maxSack {
			break
		}
		addAt(s)
	}
	for _, s := range c.sackRecent {
		if len(out) == maxSack {
			break
		}
		addAt(s)
	}
	for s := c.rcvNext + 1; len(out) < maxSack && before(s, c.highRcvd); {
		if r, ok := c.runAt(s); ok {
			add(r)
			s = r.End
		} else {
			s++
		}
	}
	c.sackRecent = c.sackRecent[:0]
	for _, r := range out {
		c.sackRecent = append(c.sackRecent, r.End-1)
	}
	dirty := c.sackDirty[:0]
	for _, d := range c.sackDirty {
		if !slices.ContainsFunc(out, func(r block) bool { return !before(d, r.Start) && before(d, r.End) }) {
			if _, ok := c.ooo[d]; ok && before(c.rcvNext, d) {
				dirty = append(dirty, d)
			}
		}
	}
	c.sackDirty = dirty
	return out
}

// runAt is the run of packets received out of order that holds s, if
// one does; c.mu held.
func (c *Conn) runAt(s uint32) (block, bool) {
	if _, ok := c.ooo[s]; !ok || !before(c.rcvNext, s) {
		return block{}, false
	}
	r := block{s, s + 1}
	for before(c.rcvNext, r.Start-1) {
		if _, ok := c.ooo[r.Start-1]; !ok {
			break
		}
		r.Start--
	}
	for {
		if _, ok := c.ooo[r.End]; !ok {
			break
		}
		r.End++
	}
	return r, true
}

// onAck takes the acknowledgements of a packet; c.mu held.
func (c *Conn) onAck(p *packet, now time.Time) {
	c.ackLatest.ok = false
	c.peerWindow = p.window
	if len(p.sack) > 0 || before(c.sndUna, p.ack) {
		var sack [][2]uint32
		for _, s := range p.sack {
			sack = append(sack, [2]uint32{s.Start, s.End})
		}
		c.trace(TraceEvent{Event: "ack", Ack: p.ack, SACK: sack})
	}
	if p.tsecr != 0 && (before(c.sndUna, p.ack) || len(p.sack) > 0) {
		if rtt := time.Duration(c.ts(now)-p.tsecr) * time.Microsecond; rtt < maxRTO {
			c.rtt.sample(rtt)
		}
	}
	delivered := 0
	// The cumulative acknowledgement.
	if before(c.sndUna, p.ack) && !before(c.sndNext, p.ack) {
		for len(c.segs) > 0 && before(c.segs[0].seq, p.ack) {
			s := c.segs[0]
			if !s.sacked {
				delivered++
				c.noteDelivered(s)
				c.noteOrder(s, p)
			}
			if s.flying {
				c.flight--
			}
			if s.lost {
				c.lostCount--
			}
			c.segBytes -= len(s.data)
			c.segs[0] = nil
			c.segs = c.segs[1:]
			freeSegment(s)
		}
		c.sndUna = p.ack
		c.broadcast() // room in the send buffer
		c.rtoAt, c.probeAt = time.Time{}, time.Time{}
	}
	// Selective acknowledgements.
	for _, b := range p.sack {
		start, end := b.Start, b.End
		if before(start, c.sndUna) {
			start = c.sndUna
		}
		if before(c.sndNext, end) {
			end = c.sndNext
		}
		for s := start; before(s, end); s++ {
			seg := c.segs[s-c.sndUna]
			if seg.sacked {
				continue
			}
			seg.sacked = true
			if seg.lost {
				seg.lost = false
				c.lostCount--
			}
			delivered++
			c.noteDelivered(seg)
			c.noteOrder(seg, p)
			if seg.flying {
				seg.flying = false
				c.flight--
			}
			if before(c.highSacked, s+1) {
				c.highSacked = s + 1
			}
		}
	}
	if delivered > 0 {
		a := ackSample{now: now, delivered: delivered, una: c.sndUna, rtt: c.rtt.latest, srtt: c.rtt.srtt, inflight: c.flight}
		c.delivered += uint64(delivered)
		// The delivery rate over the packet's flight (RFC draft
		// "Delivery Rate Estimation"): the longer of the send and the
		// acknowledgement intervals, and never one shorter than the
		// minimum RTT, which ACKs bunched together would make.
		if p := &c.ackLatest; p.ok {
			d := max(now.Sub(p.deliveredAt), p.sentAt.Sub(p.firstSentAt))
			if d > 0 && d >= c.rtt.min {
				a.rate = float64(c.delivered-p.delivered) / d.Seconds()
			}
			a.appLimited = p.appLimited
		}
		c.deliveredAt = now
		a.total = c.delivered
		c.cc.onAck(a)
		// The path is delivering: the timers run from now (a hole being
		// repaired with selective acks is progress, not a timeout).
		c.rtoAt, c.probeAt = time.Time{}, time.Time{}
		c.rtt.backoff = 0
		c.detectLoss(now)
	}
}

func (c *Conn) noteDelivered(s *segment) {
	if s.sentAt.After(c.rackSent) {
		c.rackSent = s.sentAt
	}
	if !c.ackLatest.ok || s.sentAt.After(c.ackLatest.sentAt) {
		c.ackLatest = rateMark{true, s.sentAt, s.delivered, s.deliveredAt, s.firstSentAt, s.appLimited}
	}
}

// detectLoss declares lost the packets that later ones have overtaken:
// three delivered above it (fast retransmit), or one sent after it
// delivered a reordering window ago (RACK, RFC 8985); c.mu held.
// noteOrder learns from a packet newly acknowledged: delivered after a
// later one (reordering), or, having been sent again, acknowledged by an
// ACK that echoes the original's timestamp (the loss was spurious);
// c.mu held.
func (c *Conn) noteOrder(s *segment, p *packet) {
	if s.sends == 1 && before(s.seq+1, c.highSacked) {
		c.reorderSeen = true
	}
	if s.sends > 1 && p.tsecr != 0 && before32(p.tsecr, c.ts(s.sentAt)) {
		c.reorderSeen = true
		c.reoMult = min(c.reoMult+1, 4)
		c.reoPersist = reoPersist
		c.stats.Spurious++
		c.cc.onSpurious()
	}
}

// reoPersist is how many loss detections without a spurious
// retransmission bring the reordering window back to its narrowest.
const reoPersist = 16

// before32 compares timestamps that wrap.
func before32(a, b uint32) bool { return int32(a-b) < 0 }

func (c *Conn) detectLoss(now time.Time) {
	reo := max(min(time.Duration(max(c.reoMult, 1))*c.rtt.min/4, c.rtt.srtt), time.Millisecond)
	wait := c.rtt.srtt + reo
	c.rackAt = time.Time{}
	declared := false
	for _, s := range c.segs {
		if s.sends == 1 && !s.sentAt.Before(c.rackSent) && (c.reorderSeen || !before(s.seq+3, c.highSacked+1)) {
			break // it, and every packet after it, was sent after the last one delivered
		}
		if s.sacked || s.lost || !s.flying {
			continue
		}
		why := ""
		switch {
		case before(s.seq+3, c.highSacked+1) && s.sends == 1 && !c.reorderSeen:
			why = "three later packets arrived"
		case s.sentAt.Before(c.rackSent) && now.Sub(s.sentAt) >= wait:
			why = "a later packet arrived a reordering window ago"
		case s.sentAt.Before(c.rackSent):
			if at := s.sentAt.Add(wait); c.rackAt.IsZero() || at.Before(c.rackAt) {
				c.rackAt = at
			}
		}
		if why != "" {
			s.lost, s.flying = true, false
			declared = true
			c.lostCount++
			c.flight--
			c.cc.onLoss(s.seq, c.sndNext, s.txFlight)
			c.trace(TraceEvent{Event: "lost", Seq: s.seq, Reason: why})
		}
	}
	// RFC 8985 6.2: the reordering window widens with each spurious
	// retransmission and narrows back after 16 recoveries without one.
	// (It never narrowed: at 5% loss, a few spurious retransmissions from
	// lost acknowledgements held it at a whole round trip, every lost
	// packet waited two before it was sent again, and a packet lost twice
	// shut the receive window.)
	if declared && c.reoMult > 1 {
		if c.reoPersist--; c.reoPersist <= 0 {
			c.reoMult, c.reoPersist = 1, reoPersist
		}
	}
}

// run sends what can be sent and keeps the timers, until the connection
// is over.
func (c *Conn) run() {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		over, next := c.tick()
		if over {
			return
		}
		t.Reset(next)
		select {
		case <-c.wake:
		case <-t.C:
		}
	}
}

// tick acts on the timers that are due and sends what may go; it reports
// whether the connection is over (and then ends it) and how long it may
// wait before the next tick if no packet comes.
func (c *Conn) tick() (over bool, next time.Duration) {
	c.mu.Lock()
	now := c.now()
	c.timers(now)
	out := c.transmit(now, c.outBuf[:0])
	c.outBuf = out
	over = c.over(now)
	next = c.nextWake(now)
	c.mu.Unlock()
	if len(out) > 0 {
		if err := c.out(out); err != nil && isRefused(err) {
			c.refused()
		}
	}
	if over {
		c.mu.Lock()
		c.done = true
		if c.err == nil {
			c.err = net.ErrClosed
		}
		c.broadcast()
		c.mu.Unlock()
		if c.release != nil {
			c.release()
		}
		close(c.ended)
	}
	return over, next
}

// Done is closed when the connection is over: closed or failed, and done
// sending what it had.
func (c *Conn) Done() <-chan struct{} { return c.ended }

// refused notes that the kernel reported the peer's port unreachable
// (ICMP): a peer that was closing is gone; one that was not has lost its
// socket, once it has said nothing back through three refusals.
func (c *Conn) refused() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refusals++
	if c.closed || c.refusals >= 3 && c.now().Sub(c.lastRecv) > c.rtt.rto() {
		c.fail(ErrRefused)
	}
}

// over reports whether the run loop may end; c.mu held.
func (c *Conn) over(now time.Time) bool {
	switch {
	case c.err != nil && c.err != net.ErrClosed:
		return true
	case !c.closed:
		return false
	case now.After(c.lingerUntil):
		return true
	}
	return c.finSent && len(c.segs) == 0 && (c.eof || now.Sub(c.lastRecv) > 2*c.rtt.rto())
}

// timers acts on the timers that are due; c.mu held.
func (c *Conn) timers(now time.Time) {
	if now.Sub(c.lastRecv) > c.cfg.IdleTimeout {
		c.fail(ErrPeerSilent)
		return
	}
	if !c.rtoAt.IsZero() && !now.Before(c.rtoAt) {
		c.rtoAt = time.Time{}
		c.stats.Timeouts++
		c.trace(TraceEvent{Event: "timeout", Seq: c.sndUna, Reason: "no acknowledgement within " + c.rtt.rto().String()})
		for _, s := range c.segs {
			if !s.sacked && s.flying {
				s.lost, s.flying = true, false
				c.lostCount++
				c.flight--
			}
		}
		c.rtt.backoff++
		c.cc.onTimeout(c.sndNext)
	}
	if !c.probeAt.IsZero() && !now.Before(c.probeAt) && c.flight > 0 {
		// Nothing acknowledged for two round trips: send one packet, new
		// if there is one, else the last sent again, so that the
		// acknowledgement it draws shows what was lost without waiting
		// for the retransmission timeout.
		c.probeAt = time.Time{}
		c.probe = true
		if c.pending.n == 0 && (!c.finQueued || c.finSent) {
			for i := len(c.segs) - 1; i >= 0; i-- {
				if s := c.segs[i]; !s.sacked && s.flying {
					s.lost, s.flying = true, false
					c.lostCount++
					c.flight--
					c.trace(TraceEvent{Event: "lost", Seq: s.seq, Reason: "a tail loss probe: nothing acknowledged for two round trips"})
					break
				}
			}
		}
	}
	if !c.rackAt.IsZero() && !now.Before(c.rackAt) {
		c.detectLoss(now)
	}
	if !c.ackAt.IsZero() && !now.Before(c.ackAt) {
		c.ackNow = true
	}
	if now.Sub(c.lastRecv) > c.cfg.KeepAlive && now.Sub(c.lastPing) > c.cfg.KeepAlive {
		c.lastPing = now
		c.ackNow = true
	}
}

// nextWake is how long the run loop may sleep; c.mu held.
func (c *Conn) nextWake(now time.Time) time.Duration {
	next := now.Add(c.cfg.KeepAlive)
	for _, t := range []time.Time{c.rtoAt, c.probeAt, c.rackAt, c.ackAt, c.fecOut.flushAt} {
		if !t.IsZero() && t.Before(next) {
			next = t
		}
	}
	if c.closed && c.lingerUntil.Before(next) {
		next = c.lingerUntil
	}
	if c.sendable() && c.tokens < 1 {
		if at := now.Add(c.refillTime()); at.Before(next) {
			next = at
		}
	}
	return max(next.Sub(now), 50*time.Microsecond)
}

// sendable reports whether there is data that the windows would let go.
func (c *Conn) sendable() bool {
	if c.flight >= c.cwnd() {
		return false
	}
	return c.lostCount > 0 || (c.pending.n > 0 || c.finQueued && !c.finSent) && c.windowOpen()
}

// cwnd is the packets that may be in flight now.
func (c *Conn) cwnd() int { return int(c.cc.window()) + c.allow }

// paceRate is the controller's pacing rate, in packets per second.
func (c *Conn) paceRate() float64 { return c.cc.pacingRate(c.rtt.srtt) }

// refill adds the tokens earned since the last refill, up to five
// milliseconds' worth of packets (10 to 64): a timer that wakes the loop
// late must not cost the sending it was due, or the rate would fall
// below the pacing rate and the bandwidth estimate with it.
func (c *Conn) refill(now time.Time) {
	rate := c.paceRate()
	if rate == 0 {
		c.tokens = 16
		return
	}
	burst := min(max(rate/200, 10), 64)
	c.tokens = min(c.tokens+now.Sub(c.lastFill).Seconds()*rate, burst)
	c.lastFill = now
}

func (c *Conn) refillTime() time.Duration {
	rate := c.paceRate()
	if rate == 0 {
		return 0
	}
	return time.Duration((1 - c.tokens) / rate * float64(time.Second))
}

// transmit builds the datagrams to send now: lost packets again, then new
// ones, then an acknowledgement if one is owed and nothing carried it;
// c.mu held.
func (c *Conn) transmit(now time.Time, out [][]byte) [][]byte {
	c.arena = c.arena[:0] // what the last tick built has been sent
	c.refill(now)
	if f := &c.fecOut; !f.flushAt.IsZero() && !now.Before(f.flushAt) {
		out = c.fecFlush(out) // a group that a trickle will not fill soon
	}
	if c.probe {
		c.probe = false
		c.tokens = max(c.tokens, 1)
		c.allow = max(c.flight+1-int(c.cc.window()), 0)
		defer func() { c.allow = 0 }()
	}
	send := func(s *segment, again bool) {
		if s.lost {
			c.lostCount--
		}
		s.sentAt, s.lost, s.flying = now, false, true
		s.delivered, s.deliveredAt, s.firstSentAt = c.delivered, c.deliveredAt, c.rackSent
		s.appLimited = c.pending.n == 0 && c.flight+1 < c.cwnd()
		if s.appLimited {
			c.stats.AppLimited++
		}
		s.sends++
		c.flight++
		if s.sends == 1 {
			s.txFlight = c.flight
		}
		c.tokens--
		c.stats.Sent++
		ev := "send"
		if again {
			ev = "resend"
			c.stats.Retransmitted++
		}
		c.trace(TraceEvent{Event: ev, Seq: s.seq, Size: len(s.data)})
		p := c.header(kindData)
		p.seq, p.payload = s.seq, s.data
		if s.fin {
			p.flags |= flagFin
		}
		out = append(out, c.build(&p))
		if c.rtoAt.IsZero() {
			c.rtoAt = now.Add(c.rtt.rto())
		}
		if c.rtt.srtt > 0 {
			c.probeAt = now.Add(max(2*c.rtt.srtt, 2*time.Millisecond))
		}
	}
	for _, s := range c.segs {
		if c.lostCount == 0 || c.flight >= c.cwnd() || c.tokens < 1 {
			break
		}
		if s.lost {
			send(s, true)
		}
	}
	for c.flight < c.cwnd() && c.tokens >= 1 && c.windowOpen() {
		if c.pending.n == 0 && (!c.finQueued || c.finSent) {
			break
		}
		s := c.pending.pop(c.mss)
		s.seq = c.sndNext
		k := len(s.data)
		if c.pending.n == 0 {
			if c.finQueued {
				s.fin, c.finSent = true, true
			}
		}
		c.stats.BytesSent += uint64(k)
		c.sndNext++
		c.segs = append(c.segs, s)
		c.segBytes += k
		send(s, false)
		out = c.fecAdd(s, now, out)
	}
	if c.pending.n < c.unsentLimit()/2 {
		c.broadcast() // room for a Write waiting on the unsent limit
	}
	if c.flight > 0 && c.rtoAt.IsZero() {
		c.rtoAt = now.Add(c.rtt.rto())
	}
	if c.ackNow || len(out) > 0 {
		if len(out) == 0 {
			p := c.header(kindAck)
			if now.Sub(c.lastRecv) > c.cfg.KeepAlive {
				p.flags |= flagAckReq
			}
			out = append(out, c.build(&p))
		}
		// Runs that grew and did not fit go in further acknowledgements
		// (four runs each), a few at most.
		for i := 0; i < 4 && len(c.sackDirty) > 0; i++ {
			p := c.header(kindAck)
			out = append(out, c.build(&p))
		}
		c.ackNow, c.ackOwed, c.ackAt = false, 0, time.Time{}
	}
	return out
}

// build encodes p after the datagrams already built this tick, in one
// buffer kept from tick to tick: datagrams built one after the other lie
// next to each other, so that a run of them goes to the kernel as one GSO
// send with no further copy (the slice's capacity reaches past its end,
// which is how the writer sees that the next one follows). Only the run
// loop builds, and what it built is sent before its next tick; c.mu held.
func (c *Conn) build(p *packet) []byte {
	start := len(c.arena)
	c.arena = p.appendTo(c.arena)
	return c.arena[start:]
}

// windowOpen reports whether the peer's window takes another packet: a
// shut window still takes one when nothing is in flight, as a probe.
func (c *Conn) windowOpen() bool {
	return c.sndNext-c.sndUna < c.peerWindow || c.peerWindow == 0 && c.flight == 0
}

// header fills in the acknowledgement fields every packet carries.
func (c *Conn) header(kind byte) packet {
	w := c.window()
	c.advertised = w
	return packet{kind: kind, conn: c.peerID, ack: c.rcvNext, window: w,
		tsval: c.ts(c.now()), tsecr: c.echoTS, sack: c.sackBlocks()}
}

// String tells the event as a line of the story of a connection.
func (e TraceEvent) String() string {
	at := fmt.Sprintf("%10.3f ms ", float64(e.At.Microseconds())/1000)
	switch e.Event {
	case "send", "resend", "recv":
		return fmt.Sprintf("%s%-6s packet %d (%d bytes)", at, e.Event, e.Seq, e.Size)
	case "ack":
		s := fmt.Sprintf("%sack    every packet below %d arrived", at, e.Ack)
		if len(e.SACK) > 0 {
			var runs []string
			for _, b := range e.SACK {
				if b[1]-b[0] == 1 {
					runs = append(runs, fmt.Sprint(b[0]))
				} else {
					runs = append(runs, fmt.Sprintf("%d-%d", b[0], b[1]-1))
				}
			}
			s += fmt.Sprintf(", and %s (selective ack): %d is missing", strings.Join(runs, ", "), e.Ack)
		}
		return s
	case "gap":
		return fmt.Sprintf("%sgap    packet %d has not arrived: %s", at, e.Seq, e.Reason)
	case "lost", "timeout":
		return fmt.Sprintf("%s%-6s packet %d: %s", at, e.Event, e.Seq, e.Reason)
	case "parity":
		return fmt.Sprintf("%sparity %d packet(s) %s", at, e.Size, e.Reason)
	case "recover":
		return fmt.Sprintf("%srecover packet %d (%d bytes): %s", at, e.Seq, e.Size, e.Reason)
	}
	return at + e.Event
}

// segPool keeps segments and their payload buffers from one packet to
// the next, across connections: on a host where a page touched for the
// first time costs a fault (12 µs a page on this project's VMs), a
// stream that allocated a fresh buffer for every written byte spent as
// long faulting in memory as sending it, and the collector ran ten times
// for every 64 MiB.
var segPool sync.Pool

// newSegment returns an empty segment whose buffer takes size bytes.
func newSegment(size int) *segment {
	if s, _ := segPool.Get().(*segment); s != nil {
		if cap(s.data) >= size {
			return s
		}
	}
	return &segment{data: make([]byte, 0, size)}
}

// freeSegment returns s to the pool; nothing may hold it after.
func freeSegment(s *segment) {
	*s = segment{data: s.data[:0]}
	segPool.Put(s)
}

// segQueue holds written bytes packed into segments of up to mss bytes,
// so that a Write copies its bytes once, into the buffers the packets are
// sent and resent from.
type segQueue struct {
	segs []*segment
	n    int // bytes
}

// push appends b, filling the last segment first.
func (q *segQueue) push(b []byte, mss int) {
	q.n += len(b)
	for len(b) > 0 {
		var tail *segment
		if k := len(q.segs); k > 0 && len(q.segs[k-1].data) < mss {
			tail = q.segs[k-1]
		} else {
			tail = newSegment(mss)
			q.segs = append(q.segs, tail)
		}
		m := min(mss-len(tail.data), len(b))
		tail.data = append(tail.data, b[:m]...)
		b = b[m:]
	}
}

// pop removes the first segment, or returns a new empty one when the
// queue is empty (a FIN with no data).
func (q *segQueue) pop(mss int) *segment {
	if len(q.segs) == 0 {
		return newSegment(mss)
	}
	s := q.segs[0]
	q.segs[0] = nil
	q.segs = q.segs[1:]
	q.n -= len(s.data)
	return s
}
