package rudp

import (
	"encoding/binary"
	"math"
	"strconv"
	"time"

	"github.com/klauspost/reedsolomon"
)

// Forward error correction. A sender that wants it (Config.FEC), talking
// to a peer that said in its handshake that it decodes parity (flagFEC),
// follows every group of data packets sent for the first time with parity
// packets: Reed-Solomon shards (github.com/klauspost/reedsolomon) from
// which the receiver rebuilds any data packets of the group that were
// lost, as many as there are parity packets, without waiting a round trip
// for the retransmission. Each direction is negotiated on its own: one
// side may send parity while the other sends none.
//
// How much parity follows from the loss the sender measures: one parity
// packet a group while packets are being lost or until it knows better,
// up to half the group at high loss, none once sixteen groups in a row
// have lost nothing. A group that is not full a few milliseconds after
// its last packet (half a round trip, at least 2 ms) is closed as it is,
// so a trickle of packets is protected too.
//
// A data shard is the packet's payload behind a 2-byte length and a
// flag byte (the FIN), zero-padded to the group's longest. A parity
// packet (kindParity) numbers its group by the sequence number of the
// group's first packet and carries: k, the data packets in the group; m,
// its parity packets; its own index among them; the shard length; the
// shard.

const (
	fecHeader   = 5 // k, m, index, shard length (2)
	shardPrefix = 3 // length (2), fin
	maxFECGroup = 32
)

// fecSender is the sending half's state; c.mu guards it.
type fecSender struct {
	on      bool
	k       int      // packets a group
	start   uint32   // the open group's first packet
	shards  [][]byte // its data shards so far
	longest int
	flushAt time.Time
	clean   int     // groups in a row that lost nothing
	loss    float64 // smoothed share of packets lost
	sent    uint64  // c.stats.Sent and Retransmitted when the last group closed
	resent  uint64
}

// fecReceiver keeps what the receiving half needs to rebuild packets.
type fecReceiver struct {
	recent map[uint32]rseg      // data packets received lately, by number
	groups map[uint32]*fecGroup // parity received, by group
	member map[uint32]uint32    // the group of each packet a parity packet covers
	oldest uint32               // numbers below it are forgotten
}

type fecGroup struct {
	k, m     int
	shardLen int
	parity   [][]byte // by index; nil where not received
	done     bool
}

// fecAdd takes a data packet sent for the first time into the open
// group, and sends the group's parity once it is full; c.mu held.
func (c *Conn) fecAdd(s *segment, now time.Time, out [][]byte) [][]byte {
	f := &c.fecOut
	if !f.on {
		return out
	}
	if len(f.shards) == 0 {
		f.start = s.seq
	}
	sh := make([]byte, shardPrefix+len(s.data))
	binary.BigEndian.PutUint16(sh, uint16(len(s.data)))
	if s.fin {
		sh[2] = 1
	}
	copy(sh[shardPrefix:], s.data)
	f.shards = append(f.shards, sh)
	f.longest = max(f.longest, len(sh))
	f.flushAt = now.Add(max(c.rtt.srtt/2, 2*time.Millisecond))
	if len(f.shards) >= f.k || s.fin {
		out = c.fecFlush(out)
	}
	return out
}

// fecFlush closes the open group and sends its parity; c.mu held.
func (c *Conn) fecFlush(out [][]byte) [][]byte {
	f := &c.fecOut
	k := len(f.shards)
	if k == 0 {
		return out
	}
	m := f.parityCount(k, c.stats.Sent, c.stats.Retransmitted)
	shards, longest, start := f.shards, f.longest, f.start
	f.shards, f.longest, f.flushAt = nil, 0, time.Time{}
	if m == 0 {
		return out
	}
	enc, err := reedsolomon.New(k, m)
	if err != nil {
		return out
	}
	all := make([][]byte, k+m)
	for i, sh := range shards {
		all[i] = append(sh, make([]byte, longest-len(sh))...)
	}
	for i := k; i < k+m; i++ {
		all[i] = make([]byte, longest)
	}
	if enc.Encode(all) != nil {
		return out
	}
	for j := range m {
		p := c.header(kindParity)
		p.seq = start
		p.payload = append([]byte{byte(k), byte(m), byte(j), 0, 0}, all[k+j]...)
		binary.BigEndian.PutUint16(p.payload[3:], uint16(longest))
		out = append(out, c.build(&p))
		c.stats.FECSent++
	}
	c.trace(TraceEvent{Event: "parity", Seq: start, Size: m, Reason: "for packets " + strconv.FormatUint(uint64(start), 10) + " to " + strconv.FormatUint(uint64(start+uint32(k)-1), 10)})
	return out
}

// parityCount decides how many parity packets a group of k gets, from
// the loss measured since the last group closed.
func (f *fecSender) parityCount(k int, sent, resent uint64) int {
	ds, dr := sent-f.sent, resent-f.resent
	f.sent, f.resent = sent, resent
	if ds > 0 {
		f.loss = 0.75*f.loss + 0.25*float64(dr)/float64(ds)
	}
	if dr == 0 {
		f.clean++
	} else {
		f.clean = 0
	}
	if f.clean >= 16 && f.loss < 0.001 {
		return 0
	}
	return min(max(1, int(math.Ceil(2*f.loss*float64(k)))), max(k/2, 1))
}

// fecRecord keeps a received data packet for rebuilding its group's
// missing ones; c.mu held.
func (c *Conn) fecRecord(p *packet) {
	r := &c.fecIn
	if r.recent == nil {
		return
	}
	r.recent[p.seq] = rseg{append([]byte(nil), p.payload...), p.flags&flagFin != 0}
	c.fecForget(p.seq)
	c.fecTry(p.seq, true)
}

// fecForget drops what is too old to help: packets and groups more than
// a window behind the newest.
func (c *Conn) fecForget(newest uint32) {
	r := &c.fecIn
	limit := uint32(2 * maxFECGroup * 4)
	if newest-r.oldest <= 2*limit {
		return
	}
	r.oldest = newest - limit
	for s := range r.recent {
		if before(s, r.oldest) {
			delete(r.recent, s)
		}
	}
	for s := range r.groups {
		if before(s, r.oldest) {
			delete(r.groups, s)
		}
	}
	for s := range r.member {
		if before(s, r.oldest) {
			delete(r.member, s)
		}
	}
}

// onParity takes a parity packet; c.mu held.
func (c *Conn) onParity(p *packet, now time.Time) {
	r := &c.fecIn
	if r.recent == nil || len(p.payload) < fecHeader {
		return
	}
	k, m, j := int(p.payload[0]), int(p.payload[1]), int(p.payload[2])
	shardLen := int(binary.BigEndian.Uint16(p.payload[3:]))
	if k < 1 || m < 1 || k+m > 2*maxFECGroup || j >= m || shardLen != len(p.payload)-fecHeader || shardLen < shardPrefix {
		return
	}
	if before(p.seq, r.oldest) {
		return
	}
	g := r.groups[p.seq]
	if g == nil {
		g = &fecGroup{k: k, m: m, shardLen: shardLen, parity: make([][]byte, m)}
		r.groups[p.seq] = g
		for i := range uint32(k) {
			r.member[p.seq+i] = p.seq
		}
	}
	if g.k != k || g.m != m || g.shardLen != shardLen || g.done {
		return
	}
	g.parity[j] = append([]byte(nil), p.payload[fecHeader:]...)
	c.fecForget(p.seq)
	c.fecTry(p.seq, false)
}

// fecTry rebuilds the missing packets of the group that holds seq (or
// starts at it) when enough of it has arrived; c.mu held.
func (c *Conn) fecTry(seq uint32, isData bool) {
	r := &c.fecIn
	var start uint32
	var g *fecGroup
	if isData {
		// A data packet whose group's parity has not come yet waits for
		// it: the parity's arrival tries the group then.
		var ok bool
		if start, ok = r.member[seq]; ok {
			g = r.groups[start]
		}
	} else {
		start, g = seq, r.groups[seq]
	}
	if g == nil || g.done {
		return
	}
	all := make([][]byte, g.k+g.m)
	have, missing := 0, 0
	for i := range g.k {
		s := start + uint32(i)
		if d, ok := r.recent[s]; ok {
			sh := make([]byte, g.shardLen)
			if shardPrefix+len(d.data) > g.shardLen {
				g.done = true // not the group the sender made
				return
			}
			binary.BigEndian.PutUint16(sh, uint16(len(d.data)))
			if d.fin {
				sh[2] = 1
			}
			copy(sh[shardPrefix:], d.data)
			all[i] = sh
			have++
		} else if !before(s, c.rcvNext) {
			missing++
		} else {
			// Delivered, but not kept: it arrived before FEC was on, or
			// it was forgotten. The group cannot be rebuilt from it.
			g.done = true
			return
		}
	}
	for j, sh := range g.parity {
		if sh != nil {
			all[g.k+j] = sh
			have++
		}
	}
	if missing == 0 {
		g.done = true
		return
	}
	if have < g.k {
		return
	}
	dec, err := reedsolomon.New(g.k, g.m)
	if err != nil || dec.ReconstructData(all) != nil {
		g.done = true
		return
	}
	g.done = true
	for i := range g.k {
		s := start + uint32(i)
		if _, ok := r.recent[s]; ok || before(s, c.rcvNext) {
			continue
		}
		sh := all[i]
		n := int(binary.BigEndian.Uint16(sh))
		if shardPrefix+n > len(sh) {
			continue
		}
		q := packet{kind: kindData, seq: s, payload: sh[shardPrefix : shardPrefix+n]}
		if sh[2] == 1 {
			q.flags |= flagFin
		}
		c.stats.FECRecovered++
		c.trace(TraceEvent{Event: "recover", Seq: s, Size: n, Reason: "rebuilt from its group's parity"})
		r.recent[s] = rseg{append([]byte(nil), q.payload...), q.flags&flagFin != 0}
		c.onData(&q, c.now())
	}
}
