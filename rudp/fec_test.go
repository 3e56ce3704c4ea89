package rudp

import (
	"net"
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
