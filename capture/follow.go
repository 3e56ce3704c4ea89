package capture

import (
	"bytes"
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket/layers"
)

// Chunk is a run of a TCP stream's bytes, in order, from one side.
type Chunk struct {
	From, To netip.AddrPort
	Offset   int64 // of the first byte in the stream, from 0
	Data     []byte
}

// Follow reassembles TCP streams: each direction's bytes in sequence
// order, whatever order the segments came in, each byte once. Segments
// that repeat bytes already delivered are checked against them: an
// overlap with different bytes is reported, never resolved silently.
// Memory is bounded: past MaxPending bytes waiting for a gap to fill, the
// gap is reported and skipped.
type Follow struct {
	// Chunk is called with each run of bytes as it becomes in order.
	Chunk func(Chunk)
	// Problem is called with what reassembly found wrong: an overlap with
	// different bytes, a gap given up on.
	Problem func(from, to netip.AddrPort, what string)
	// MaxPending bounds the bytes held out of order, each direction. If
	// zero, 4 MiB.
	MaxPending int

	dirs map[[2]netip.AddrPort]*direction
}

type direction struct {
	started bool
	next    uint32 // sequence number of the next byte to deliver
	offset  int64
	pending map[uint32][]byte
	held    int
	recent  []byte // the last bytes delivered, for overlap checks
}

const recentKeep = 64 << 10

// Add feeds a packet; packets that are not TCP are skipped.
func (f *Follow) Add(p *Packet) {
	tcp, ok := p.pk().TransportLayer().(*layers.TCP)
	if !ok {
		return
	}
	from, to, ok := p.Endpoints()
	if !ok {
		return
	}
	if f.dirs == nil {
		f.dirs = map[[2]netip.AddrPort]*direction{}
	}
	d := f.dirs[[2]netip.AddrPort{from, to}]
	if d == nil {
		d = &direction{pending: map[uint32][]byte{}}
		f.dirs[[2]netip.AddrPort{from, to}] = d
	}
	seq := tcp.Seq
	if tcp.SYN {
		d.started, d.next = true, seq+1
		seq++
	}
	data := tcp.Payload
	if len(data) == 0 {
		return
	}
	if !d.started {
		d.started, d.next = true, seq // joined mid-stream
	}
	f.place(d, from, to, seq, data)
}

func (f *Follow) place(d *direction, from, to netip.AddrPort, seq uint32, data []byte) {
	// Bytes before next were delivered already: compare, then drop.
	if before := int32(d.next - seq); before > 0 {
		n := min(int(before), len(data))
		f.checkOverlap(d, from, to, seq, data[:n])
		data, seq = data[n:], d.next
		if len(data) == 0 {
			return
		}
	}
	if seq != d.next {
		if old, ok := d.pending[seq]; ok && !bytes.Equal(old[:min(len(old), len(data))], data[:min(len(old), len(data))]) {
			f.problem(from, to, fmt.Sprintf("segments at seq %d overlap with different bytes (the first kept)", seq))
		}
		if _, ok := d.pending[seq]; !ok {
			d.pending[seq] = append([]byte(nil), data...)
			d.held += len(data)
		}
		max := f.MaxPending
		if max <= 0 {
			max = 4 << 20
		}
		if d.held > max {
			f.skipGap(d, from, to)
		}
		return
	}
	f.deliver(d, from, to, data)
	for {
		next, ok := d.pending[d.next]
		if !ok {
			// A pending segment may start inside what was delivered.
			found := false
			for s, b := range d.pending {
				if int32(d.next-s) > 0 && int32(d.next-(s+uint32(len(b)))) < 0 {
					delete(d.pending, s)
					d.held -= len(b)
					f.place(d, from, to, s, b)
					found = true
					break
				}
			}
			if !found {
				return
			}
			continue
		}
		delete(d.pending, d.next)
		d.held -= len(next)
		f.deliver(d, from, to, next)
	}
}

func (f *Follow) deliver(d *direction, from, to netip.AddrPort, data []byte) {
	if f.Chunk != nil {
		f.Chunk(Chunk{From: from, To: to, Offset: d.offset, Data: append([]byte(nil), data...)})
	}
	d.offset += int64(len(data))
	d.next += uint32(len(data))
	d.recent = append(d.recent, data...)
	if len(d.recent) > recentKeep {
		d.recent = append(d.recent[:0], d.recent[len(d.recent)-recentKeep:]...)
	}
}

// checkOverlap compares repeated bytes with those delivered.
func (f *Follow) checkOverlap(d *direction, from, to netip.AddrPort, seq uint32, data []byte) {
	back := int(int32(d.next - seq)) // how far before next the data starts
	if back > len(d.recent) {
		return // older than what is kept: cannot be checked
	}
	old := d.recent[len(d.recent)-back:]
	n := min(len(old), len(data))
	if !bytes.Equal(old[:n], data[:n]) {
		f.problem(from, to, fmt.Sprintf("a retransmission at seq %d carries different bytes from the ones delivered (the first kept)", seq))
	}
}

// skipGap gives up on the missing bytes before the earliest pending one.
func (f *Follow) skipGap(d *direction, from, to netip.AddrPort) {
	first, found := uint32(0), false
	for s := range d.pending {
		if !found || int32(s-first) < 0 {
			first, found = s, true
		}
	}
	if !found {
		return
	}
	f.problem(from, to, fmt.Sprintf("%d bytes never came (seq %d to %d); skipped", first-d.next, d.next, first))
	d.offset += int64(first - d.next)
	d.next = first
	b := d.pending[first]
	delete(d.pending, first)
	d.held -= len(b)
	f.place(d, from, to, first, b)
}

// Flush reports the gaps still open at the end of the capture.
func (f *Follow) Flush() {
	for k, d := range f.dirs {
		if len(d.pending) > 0 {
			f.problem(k[0], k[1], fmt.Sprintf("%d bytes waited for missing ones that never came", d.held))
		}
	}
}

func (f *Follow) problem(from, to netip.AddrPort, what string) {
	if f.Problem != nil {
		f.Problem(from, to, what)
	}
}
