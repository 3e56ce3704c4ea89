package rudp

import (
	"testing"
	"time"

	"github.com/netkit-dev/netkit/impair"
)

// TestReorderWindowNarrowsBack: spurious retransmissions widen RACK's
// reordering window to a whole RTT; 16 loss detections without another
// bring it back to a quarter of the minimum RTT (RFC 8985 6.2), so that a
// lossy path's lost packets are sent again after 1.25 RTTs, not 2.
func TestReorderWindowNarrowsBack(t *testing.T) {
	clock := impair.NewVirtualClock(time.Unix(1_700_000_000, 0))
	c := newConn(Config{clock: clock.Now, manual: true}, nil, nil, 1, 2, 0, func([][]byte) error { return nil }, nil)
	c.rtt.sample(20 * time.Millisecond)
	c.reorderSeen, c.reoMult, c.reoPersist = true, 4, reoPersist
	// lostAfter reports whether a packet sent at t0, with a later one
	// sent a millisecond after it already delivered, counts as lost
	// after d.
	seq := uint32(1)
	lostAfter := func(d time.Duration) bool {
		t0 := clock.Now()
		s := &segment{seq: seq, sentAt: t0, sends: 1, flying: true, txFlight: 10}
		c.segs, c.sndUna, c.sndNext, c.flight, c.lostCount = []*segment{s}, seq, seq+1, 1, 0
		c.rackSent = t0.Add(time.Millisecond)
		clock.Advance(d)
		c.detectLoss(clock.Now())
		seq++
		return s.lost
	}
	if lostAfter(30 * time.Millisecond) {
		t.Fatalf("lost after 30 ms with the window at a whole RTT (reoMult %d)", c.reoMult)
	}
	for i := range reoPersist {
		if !lostAfter(50 * time.Millisecond) {
			t.Fatalf("detection %d: not lost after 50 ms, 2.5 RTTs", i)
		}
	}
	if c.reoMult != 1 {
		t.Errorf("reoMult %d after %d detections without a spurious retransmission, want 1", c.reoMult, reoPersist)
	}
	if !lostAfter(30 * time.Millisecond) {
		t.Errorf("not lost after 30 ms (srtt 20 ms + a quarter of the minimum RTT) once the window narrowed")
	}
}
