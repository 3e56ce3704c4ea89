package capture

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Flow sums up one conversation: TCP or UDP between two endpoints, both
// directions together. "A" is the side that sent the first packet seen
// (for TCP with a SYN, the client).
type Flow struct {
	Proto     string         `json:"proto"`
	A         netip.AddrPort `json:"a"`
	B         netip.AddrPort `json:"b"`
	First     time.Time      `json:"first"`
	Last      time.Time      `json:"last"`
	PacketsAB int            `json:"packets_a_to_b"`
	PacketsBA int            `json:"packets_b_to_a"`
	BytesAB   int64          `json:"bytes_a_to_b"` // payload bytes
	BytesBA   int64          `json:"bytes_b_to_a"`
	// TCP only.
	HandshakeRTT  time.Duration `json:"handshake_rtt_ns,omitempty"` // SYN to SYN-ACK, as seen where the capture ran
	Retransmitted int           `json:"retransmitted,omitempty"`    // segments whose bytes were all seen before
	OutOfOrder    int           `json:"out_of_order,omitempty"`     // segments that start past the next byte expected
	ZeroWindows   int           `json:"zero_windows,omitempty"`
	Resets        int           `json:"resets,omitempty"`
	synAt         time.Time
	next          [2]uint32 // the next sequence number expected, each way
	seen          [2]bool
	gaps          [2][]gap // bytes skipped by a segment that came early
}

type gap struct{ from, to uint32 }

// Flows accumulates flows from packets.
type Flows struct {
	byKey map[flowKey]*Flow
	order []*Flow
}

type flowKey struct {
	proto string
	a, b  netip.AddrPort
}

// Add counts a packet; packets that are neither TCP nor UDP are skipped.
func (fs *Flows) Add(p *Packet) {
	s, d, ok := p.Endpoints()
	if !ok {
		return
	}
	var proto string
	var tcp *layers.TCP
	var payload int
	switch t := p.pk().TransportLayer().(type) {
	case *layers.TCP:
		proto, tcp, payload = "tcp", t, len(t.Payload)
	case *layers.UDP:
		proto, payload = "udp", len(t.Payload)
	}
	if fs.byKey == nil {
		fs.byKey = map[flowKey]*Flow{}
	}
	dir := 0
	f := fs.byKey[flowKey{proto, s, d}]
	if f == nil {
		if f = fs.byKey[flowKey{proto, d, s}]; f != nil {
			dir = 1
		}
	}
	if f == nil {
		f = &Flow{Proto: proto, A: s, B: d, First: p.Time}
		fs.byKey[flowKey{proto, s, d}] = f
		fs.order = append(fs.order, f)
	}
	f.Last = p.Time
	if dir == 0 {
		f.PacketsAB++
		f.BytesAB += int64(payload)
	} else {
		f.PacketsBA++
		f.BytesBA += int64(payload)
	}
	if tcp == nil {
		return
	}
	switch {
	case tcp.SYN && !tcp.ACK:
		f.synAt = p.Time
	case tcp.SYN && tcp.ACK && !f.synAt.IsZero() && f.HandshakeRTT == 0:
		f.HandshakeRTT = p.Time.Sub(f.synAt)
	}
	if tcp.RST {
		f.Resets++
	}
	if tcp.Window == 0 && !tcp.RST {
		f.ZeroWindows++
	}
	length := uint32(payload)
	if tcp.SYN {
		length++
	}
	if tcp.FIN {
		length++
	}
	if length == 0 {
		return
	}
	end := tcp.Seq + length
	switch {
	case !f.seen[dir]:
		f.seen[dir], f.next[dir] = true, end
	case seqLE(end, f.next[dir]):
		if f.fillGap(dir, tcp.Seq, end) {
			f.OutOfOrder++
		} else {
			f.Retransmitted++
		}
	case seqLT(f.next[dir], tcp.Seq):
		if len(f.gaps[dir]) < 64 { // bounded: a hostile capture cannot grow it
			f.gaps[dir] = append(f.gaps[dir], gap{f.next[dir], tcp.Seq})
		}
		f.next[dir] = end
	default:
		f.next[dir] = end
	}
}

// fillGap says whether [from, to) falls in a gap, and takes it out.
func (f *Flow) fillGap(dir int, from, to uint32) bool {
	for i, g := range f.gaps[dir] {
		if seqLE(g.from, from) && seqLT(from, g.to) {
			switch {
			case seqLE(g.to, to) && g.from == from:
				f.gaps[dir] = slices.Delete(f.gaps[dir], i, i+1)
			case g.from == from:
				f.gaps[dir][i].from = to
			default:
				f.gaps[dir][i].to = from
			}
			return true
		}
	}
	return false
}

// seqLT compares sequence numbers as RFC 9293 does, across the wrap.
func seqLT(a, b uint32) bool { return int32(a-b) < 0 }
func seqLE(a, b uint32) bool { return int32(a-b) <= 0 }

// List returns the flows in the order they began.
func (fs *Flows) List() []Flow {
	out := make([]Flow, len(fs.order))
	for i, f := range fs.order {
		out[i] = *f
	}
	slices.SortStableFunc(out, func(a, b Flow) int { return cmp.Compare(a.First.UnixNano(), b.First.UnixNano()) })
	return out
}

// Endpoints are the packet's source and destination address and port,
// for a TCP or UDP packet over IPv4 or IPv6; ok is false for others.
func (p *Packet) Endpoints() (from, to netip.AddrPort, ok bool) {
	var src, dst netip.Addr
	switch ip := p.pk().NetworkLayer().(type) {
	case *layers.IPv4:
		src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
		dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
	case *layers.IPv6:
		src, _ = netip.AddrFromSlice(ip.SrcIP)
		dst, _ = netip.AddrFromSlice(ip.DstIP)
	default:
		return from, to, false
	}
	switch t := p.pk().TransportLayer().(type) {
	case *layers.TCP:
		return netip.AddrPortFrom(src, uint16(t.SrcPort)), netip.AddrPortFrom(dst, uint16(t.DstPort)), true
	case *layers.UDP:
		return netip.AddrPortFrom(src, uint16(t.SrcPort)), netip.AddrPortFrom(dst, uint16(t.DstPort)), true
	}
	return from, to, false
}
