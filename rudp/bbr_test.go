package rudp

import (
	"testing"
	"time"
)

// drive feeds b rounds of n packets each at the given RTT, losing every
// lossEvery-th packet (none if 0).
func drive(b *bbr, now *time.Time, total *uint64, rounds, n int, rtt time.Duration, lossEvery int) {
	for range rounds {
		for i := 1; i <= n; i++ {
			*now = now.Add(rtt / time.Duration(n))
			if lossEvery > 0 && i%lossEvery == 0 {
				b.onLoss(0, 0, n)
				continue
			}
			*total++
			b.onAck(ackSample{now: *now, delivered: 1, rtt: rtt, srtt: rtt, rate: float64(n) / rtt.Seconds(), inflight: n, total: *total})
		}
	}
}

func TestBBRLossAtAQueue(t *testing.T) {
	const rtProp = 20 * time.Millisecond
	start := time.Unix(0, 0)
	for _, tc := range []struct {
		name       string
		background int // lose every nth packet while the RTT is low (0: none)
		clamped    bool
	}{
		{"clean path: a loss at a high RTT is a full queue", 0, true},
		{"1% background loss: the same loss rate at a high RTT is not", 100, false},
		{"5% background loss: nor is it there", 20, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBBR(8192, 1)
			now, total := start, uint64(0)
			drive(b, &now, &total, 30, 500, rtProp, tc.background)
			before := b.window()
			// A queue builds (the RTT doubles) and packets are lost at
			// the background rate, or one in a round on a clean path.
			every := tc.background
			if every == 0 {
				every = 400
			}
			drive(b, &now, &total, 3, 500, 2*rtProp, every)
			if got := b.inflightHi > 0; got != tc.clamped {
				t.Errorf("window %.0f -> %.0f, inflightHi %.0f, background loss %.4f: clamped %v, want %v",
					before, b.window(), b.inflightHi, b.backgroundLoss(), got, tc.clamped)
			}
		})
	}
}

// A loss in start-up, when the RTT has grown and no background is known
// yet, bounds the window; once quiet rounds show that the path loses as
// much anyway, the bound goes.
func TestBBRStartupBoundLifted(t *testing.T) {
	const rtProp = 20 * time.Millisecond
	b := newBBR(8192, 1)
	now, total := time.Unix(0, 0), uint64(0)
	drive(b, &now, &total, 2, 100, rtProp, 0)
	drive(b, &now, &total, 1, 100, 2*rtProp, 20) // 5% lost at a high RTT
	if b.inflightHi == 0 {
		t.Fatalf("no bound after a loss at twice the propagation time on a path with no known background")
	}
	if b.state == bbrStartup {
		t.Fatalf("still in start-up after the loss")
	}
	for i := 0; b.inflightHi != 0; i++ {
		if i == 30 {
			t.Fatalf("bound %.0f still held after 30 quiet rounds with a %.3f background loss", b.inflightHi, b.backgroundLoss())
		}
		drive(b, &now, &total, 1, 100, rtProp, 50) // 2% loss, no queue
	}
	// Start-up ended on a loss that proved the path's own: the pipe was
	// never found full, so start-up goes on.
	if b.state != bbrStartup || b.pacingGain != bbrHighGain {
		t.Errorf("state %d, pacing gain %.2f once the bound went; want start-up (%d) at %.2f", b.state, b.pacingGain, bbrStartup, bbrHighGain)
	}
	// Once only: start-up that overflows a queue now, with the
	// background known, ends for good.
	drive(b, &now, &total, 1, 100, 2*rtProp, 3)
	for i := range 10 {
		drive(b, &now, &total, 1, 100, rtProp, 20) // the path now loses 5%
		if b.state == bbrStartup {
			t.Fatalf("back in start-up %d rounds after losing a third at twice the propagation time with a %.3f background", i+1, b.backgroundLoss())
		}
	}
}

// On a path that loses 2% or more of its packets anyway a loss-based
// flow could not hold more than a few Mbit/s, so a bound set by a queue's
// overflow grows back by a quarter a round rather than 2% (which took
// over a second at 5% random loss); on a clean path, and at 1% (about
// what a shared tail-drop queue's drops look like from quiet rounds), it
// stays.
func TestBBRLossyPathRegrows(t *testing.T) {
	const rtProp = 20 * time.Millisecond
	for _, tc := range []struct {
		name       string
		background int
		gone       bool
	}{
		{"clean path", 0, false},
		{"1% background loss", 100, false},
		{"5% background loss", 20, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBBR(8192, 1)
			now, total := time.Unix(0, 0), uint64(0)
			drive(b, &now, &total, 30, 500, rtProp, tc.background)
			drive(b, &now, &total, 1, 500, 2*rtProp, 3) // a queue overflows: a third lost
			if b.inflightHi == 0 {
				t.Fatalf("no bound after losing a third at twice the propagation time (background %.4f)", b.backgroundLoss())
			}
			hi := b.inflightHi
			drive(b, &now, &total, 8, 500, rtProp, tc.background)
			if gone := b.inflightHi == 0; gone != tc.gone {
				t.Errorf("bound %.0f -> %.0f after 8 quiet rounds (background %.4f): gone %v, want %v", hi, b.inflightHi, b.backgroundLoss(), gone, tc.gone)
			}
		})
	}
}

// A round whose losses prove spurious (acknowledgements held up, not a
// queue's overflow) has its bound undone once the losses left are no more
// than three times the background; a few spurious ones leave it.
func TestBBRSpuriousLossUndone(t *testing.T) {
	const rtProp = 20 * time.Millisecond
	for _, tc := range []struct {
		name     string
		spurious int
		undone   bool
	}{
		{"none proved spurious", 0, false},
		{"a few proved spurious", 10, false},
		{"most proved spurious", 70, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBBR(8192, 1)
			now, total := time.Unix(0, 0), uint64(0)
			drive(b, &now, &total, 30, 500, rtProp, 100) // 1% background
			drive(b, &now, &total, 1, 500, 2*rtProp, 3)  // a third "lost" at twice the RTT
			drive(b, &now, &total, 1, 500, rtProp, 100)
			if b.inflightHi == 0 {
				t.Fatalf("no bound after losing a third at twice the propagation time")
			}
			for range tc.spurious {
				b.onSpurious()
			}
			if undone := b.inflightHi == 0; undone != tc.undone {
				t.Errorf("%d of the round's %.0f losses spurious: bound %.0f, undone %v, want %v", tc.spurious, b.undoLost, b.inflightHi, undone, tc.undone)
			}
		})
	}
}
