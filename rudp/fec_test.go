package rudp

import (
	"bytes"
	"container/heap"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/impair"
)

// FuzzParity feeds a receiver whatever parity packets come, around a few
// real data packets: nothing it is given may crash it or deliver bytes
// that were not sent.
func FuzzParity(f *testing.F) {
	f.Add(uint32(1), []byte{2, 1, 0, 0, 8, 0, 5, 0, 'h', 'e', 'l', 'l', 'o'})
	f.Add(uint32(3), []byte{32, 32, 31, 0xff, 0xff})
	f.Add(uint32(0), []byte{1, 1, 0, 0, 3, 0, 0, 1})
	f.Fuzz(func(t *testing.T, seq uint32, payload []byte) {
		clock := impair.NewVirtualClock(time.Unix(1_700_000_000, 0))
		cfg := Config{clock: clock.Now, manual: true, seed: 1}
		addr := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1}
		c := newConn(cfg, addr, addr, 1, 2, flagFEC|flagFECSend, func([][]byte) error { return nil }, nil)
		data := []*packet{
			{kind: kindData, seq: 1, ack: 1, tsval: 1, payload: []byte("first")},
			{kind: kindData, seq: 3, ack: 1, tsval: 1, payload: []byte("third")},
		}
		for _, p := range data {
			c.input(p)
		}
		c.input(&packet{kind: kindParity, seq: seq, ack: 1, tsval: 1, payload: payload})
		c.mu.Lock()
		got := string(c.readBuf)
		c.mu.Unlock()
		// Packet 2 was never sent: whatever parity claims to rebuild it
		// from, what is read must start with what was.
		if len(got) < len("first") || got[:5] != "first" {
			t.Fatalf("read %q", got)
		}
	})
}

// TestParityRebuildsFromRealShards: a group of three whose middle packet
// is lost is rebuilt from one parity packet, in order, FIN and all.
func TestParityRebuildsFromRealShards(t *testing.T) {
	clock := impair.NewVirtualClock(time.Unix(1_700_000_000, 0))
	addr := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1}
	var sent [][]byte
	cfg := Config{clock: clock.Now, manual: true, seed: 1, FEC: true, FECGroup: 3}
	a := newConn(cfg, addr, addr, 1, 2, flagFEC, func(d [][]byte) error { sent = append(sent, d...); return nil }, nil)
	b := newConn(cfg, addr, addr, 2, 1, flagFEC|flagFECSend, func([][]byte) error { return nil }, nil)
	a.Write(make([]byte, 2*a.mss+10))
	a.CloseWrite()
	a.tick()
	var parity int
	for _, d := range sent {
		var p packet
		if err := p.decode(d); err != nil {
			t.Fatal(err)
		}
		if p.kind == kindParity {
			parity++
		}
		if p.kind == kindData && p.seq == 2 {
			continue // lost
		}
		b.input(&p)
	}
	b.mu.Lock()
	n, eof := len(b.readBuf), b.eof
	b.mu.Unlock()
	if parity != 1 || n != 2*a.mss+10 || !eof || b.Stats().FECRecovered != 1 {
		t.Fatalf("%d parity packets; the receiver read %d of %d bytes (eof %v), rebuilt %d", parity, n, 2*a.mss+10, eof, b.Stats().FECRecovered)
	}
}

// trickleDelays sends n messages of size bytes, one every gap, across a
// path with the given loss and delay (each way), on the virtual clock,
// and returns how long each took from Write to the receiver's read
// buffer.
func trickleDelays(seed uint64, n, size int, gap, delay time.Duration, loss float64, fec bool) []time.Duration {
	clock := impair.NewVirtualClock(time.Unix(1_700_000_000, 0))
	rng := rand.New(rand.NewPCG(seed, 7))
	var q arrivals
	nsent := 0
	cfg := Config{clock: clock.Now, manual: true, seed: seed, FEC: fec}
	addr := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1}
	var a, b *Conn
	send := func(to **Conn) func([][]byte) error {
		return func(d [][]byte) error {
			for _, x := range d {
				if rng.Float64() < loss {
					continue
				}
				nsent++
				heap.Push(&q, arrival{at: clock.Now().Add(delay), seq: nsent, to: *to, data: bytes.Clone(x)})
			}
			return nil
		}
	}
	a = newConn(cfg, addr, addr, 1, 2, fecFlags(cfg), send(&b), nil)
	b = newConn(cfg, addr, addr, 2, 1, fecFlags(cfg), send(&a), nil)
	sentAt := make([]time.Time, n)
	var delays []time.Duration
	next, got := 0, 0
	start := clock.Now()
	for got < n*size && clock.Now().Sub(start) < time.Duration(n)*gap+time.Minute {
		if next < n && !clock.Now().Before(start.Add(time.Duration(next)*gap)) {
			a.Write(make([]byte, size))
			sentAt[next] = clock.Now()
			next++
		}
		_, na := a.tick()
		_, nb := b.tick()
		b.mu.Lock()
		for k := len(b.readBuf) - b.readOff; k > 0; {
			take := min(k, size-got%size)
			got += take
			k -= take
			if got%size == 0 {
				delays = append(delays, clock.Now().Sub(sentAt[got/size-1]))
			}
		}
		b.readBuf, b.readOff = b.readBuf[:0], 0
		b.mu.Unlock()
		step := min(na, nb)
		if next < n {
			step = min(step, start.Add(time.Duration(next)*gap).Sub(clock.Now()))
		}
		if len(q) > 0 {
			step = min(step, q[0].at.Sub(clock.Now()))
		}
		clock.Advance(max(step, 0))
		q.deliver(clock.Now())
	}
	return delays
}

// BenchmarkTrickleFEC: 2,000 messages of 1,000 bytes, one every 20 ms,
// across 5% loss and 25 ms each way, on the virtual clock (deterministic;
// the figures are virtual time): the delivery delay of the median, the
// 99th percentile and the worst message, with and without FEC. A lost
// message of a trickle waits for a tail loss probe or a timeout without
// FEC; with it, for the parity the flush sends a few milliseconds later.
func BenchmarkTrickleFEC(b *testing.B) {
	for _, fec := range []bool{false, true} {
		b.Run(fmt.Sprintf("fec=%v", fec), func(b *testing.B) {
			var d []time.Duration
			for b.Loop() {
				d = trickleDelays(1, 2000, 1000, 20*time.Millisecond, 25*time.Millisecond, 0.05, fec)
			}
			slices.Sort(d)
			b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(d[len(d)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(d[len(d)-1].Microseconds())/1000, "max-ms")
		})
	}
}
