// Package impair builds broken networks on purpose: loss, delay, jitter,
// reordering, duplication, corruption, a bottleneck with a tail-drop
// queue, an MTU, partitions and scripted faults, applied to UDP
// datagrams in user space (this kernel has no netem).
//
// A Link decides the fate of each datagram of one direction from a seed,
// so a run can be repeated exactly; a Proxy puts two Links (one each way)
// between UDP clients and a server; Conn wraps a net.PacketConn with the
// same faults on a Clock that a test can drive by hand.
package impair

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Faults are what one direction of a link does to its datagrams. The zero
// value is a perfect link.
type Faults struct {
	// Loss is the probability (0 to 1) that a datagram is lost. With
	// Correlation, each draw leans on the last one, as netem's does: the
	// value compared is Correlation*last + (1-Correlation)*fresh, so
	// losses come in bursts.
	Loss, Correlation float64
	// GilbertElliott, if set, decides losses instead of Loss: a two-state
	// chain whose bad state loses most datagrams, the classic model of
	// bursty loss.
	GilbertElliott *GilbertElliott
	// Delay is added to every datagram, with Jitter around it (uniform in
	// [-Jitter, +Jitter], or normal with Jitter as its deviation when
	// NormalJitter). Datagrams never go out before they came in; jitter
	// may reorder them, as on a real path.
	Delay, Jitter time.Duration
	NormalJitter  bool
	// Reorder is the probability that a datagram is held back by
	// ReorderGap (10ms if zero) more than the others, so that later ones
	// overtake it.
	Reorder    float64
	ReorderGap time.Duration
	// Duplicate is the probability that a datagram is delivered twice;
	// Corrupt that one random bit of it is flipped.
	Duplicate, Corrupt float64
	// Rate, if above zero, is the bottleneck's bits per second: datagrams
	// queue behind each other, and one that would take the queue above
	// Queue bytes (64 KiB if zero) is dropped (tail drop), the loss that
	// real congestion makes.
	Rate  float64
	Queue int
	// MTU, if above zero, drops datagrams larger than it.
	MTU int
	// Down lists partitions: the link loses everything while one lasts.
	Down []Window
	// Script drops chosen datagrams, whatever else happens.
	Script []Rule
}

// GilbertElliott is a two-state loss model: from Good to Bad with
// probability P per datagram, back with R; in Bad a datagram is lost with
// probability LossBad (1 if zero), in Good with LossGood.
type GilbertElliott struct {
	P, R, LossBad, LossGood float64
}

// Window is a stretch of time, from the link's start, during which it is
// down.
type Window struct {
	At, For time.Duration
}

func (w Window) String() string { return fmt.Sprintf("%s@%s", w.For, w.At) }

// Rule drops datagrams on purpose: the Nth of the direction (from 1), or
// the first First of them, or those that contain Match; Times of them at
// most (0: every one that matches). "Drop datagram 13 once" is
// Rule{Nth: 13, Times: 1}.
type Rule struct {
	Nth, First int
	Match      []byte
	Times      int
	hits       int
}

func (r Rule) String() string {
	switch {
	case r.Nth > 0:
		return fmt.Sprintf("datagram %d", r.Nth)
	case r.First > 0:
		return fmt.Sprintf("the first %d", r.First)
	}
	return fmt.Sprintf("datagrams with %q", r.Match)
}

// Verdict says what became of a datagram.
type Verdict string

// The verdicts.
const (
	Delivered  Verdict = "delivered"
	Lost       Verdict = "lost"        // random or Gilbert-Elliott loss
	QueueFull  Verdict = "queue-full"  // the bottleneck's queue was full
	TooBig     Verdict = "too-big"     // above the MTU
	LinkDown   Verdict = "down"        // during a partition
	ScriptDrop Verdict = "script-drop" // a Rule
)

// Decision is the fate of one datagram: whether it goes, when, and what
// was done to it.
type Decision struct {
	N          int           // the datagram's number in its direction, from 1
	Size       int           //
	Verdict    Verdict       //
	At         time.Duration // when it arrived, from the link's start
	Delays     []time.Duration
	Corrupted  bool // a bit was flipped (in the copy delivered)
	Duplicated bool // it is delivered twice: Delays has two entries
	Reordered  bool // held back by ReorderGap
}

func (d Decision) String() string {
	s := fmt.Sprintf("%d %dB %s", d.N, d.Size, d.Verdict)
	for _, x := range d.Delays {
		s += " +" + x.String()
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{d.Corrupted, "corrupted"}, {d.Duplicated, "duplicated"}, {d.Reordered, "reordered"}} {
		if f.on {
			s += " " + f.name
		}
	}
	return s
}

// Counters count what a Link did.
type Counters struct {
	Received   uint64 `json:"received"`
	Delivered  uint64 `json:"delivered"` // copies sent on, duplicates included
	Lost       uint64 `json:"lost"`
	QueueFull  uint64 `json:"queue_full"`
	TooBig     uint64 `json:"too_big"`
	Down       uint64 `json:"down"`
	Scripted   uint64 `json:"scripted"`
	Duplicated uint64 `json:"duplicated"`
	Corrupted  uint64 `json:"corrupted"`
	Reordered  uint64 `json:"reordered"`
}

// Dropped counts the datagrams that never went on.
func (c Counters) Dropped() uint64 { return c.Lost + c.QueueFull + c.TooBig + c.Down + c.Scripted }

// Link is one direction of an impaired path. It is not safe for
// concurrent use: one goroutine feeds it.
type Link struct {
	f        Faults
	rng      *rand.Rand
	n        int
	lastLoss float64
	bad      bool
	busy     time.Duration // when the bottleneck is free, from the start
	counters Counters
}

// NewLink returns a link with the faults, its random choices drawn from
// seed: the same seed and the same datagrams at the same times give the
// same decisions.
func NewLink(f Faults, seed uint64) *Link {
	f.Script = append([]Rule(nil), f.Script...)
	return &Link{f: f, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Counters returns what the link has done so far.
func (l *Link) Counters() Counters { return l.counters }

// SetFaults changes the faults from the next datagram on; the counters,
// the numbering and the random sequence go on.
func (l *Link) SetFaults(f Faults) {
	f.Script = append([]Rule(nil), f.Script...)
	l.f = f
}

// Decide decides the fate of datagram p arriving at time now (from the
// link's start). It may flip a bit of p in place (Corrupted).
func (l *Link) Decide(p []byte, now time.Duration) Decision {
	l.n++
	l.counters.Received++
	d := Decision{N: l.n, Size: len(p), At: now}
	drop := func(v Verdict, c *uint64) Decision {
		d.Verdict = v
		*c++
		return d
	}
	if l.scripted(p) {
		return drop(ScriptDrop, &l.counters.Scripted)
	}
	for _, w := range l.f.Down {
		if now >= w.At && now < w.At+w.For {
			return drop(LinkDown, &l.counters.Down)
		}
	}
	if l.f.MTU > 0 && len(p) > l.f.MTU {
		return drop(TooBig, &l.counters.TooBig)
	}
	if l.lose() {
		return drop(Lost, &l.counters.Lost)
	}
	// The bottleneck: a datagram waits for those queued before it.
	out := now
	if l.f.Rate > 0 {
		queue := l.f.Queue
		if queue <= 0 {
			queue = 64 << 10
		}
		serial := time.Duration(float64(len(p)*8) / l.f.Rate * float64(time.Second))
		backlog := max(l.busy-now, 0)
		if queued := int(backlog.Seconds() * l.f.Rate / 8); queued+len(p) > queue {
			return drop(QueueFull, &l.counters.QueueFull)
		}
		l.busy = max(l.busy, now) + serial
		out = l.busy
	}
	d.Verdict = Delivered
	copies := 1
	if l.chance(l.f.Duplicate) {
		copies, d.Duplicated = 2, true
		l.counters.Duplicated++
	}
	if l.chance(l.f.Corrupt) && len(p) > 0 {
		bit := l.rng.IntN(len(p) * 8)
		p[bit/8] ^= 1 << (bit % 8)
		d.Corrupted = true
		l.counters.Corrupted++
	}
	extra := time.Duration(0)
	if l.chance(l.f.Reorder) {
		extra = l.f.ReorderGap
		if extra <= 0 {
			extra = 10 * time.Millisecond
		}
		d.Reordered = true
		l.counters.Reordered++
	}
	for range copies {
		d.Delays = append(d.Delays, out-now+l.delay()+extra)
		l.counters.Delivered++
	}
	return d
}

// scripted reports whether a Rule drops the datagram.
func (l *Link) scripted(p []byte) bool {
	for i := range l.f.Script {
		r := &l.f.Script[i]
		if r.Times > 0 && r.hits >= r.Times {
			continue
		}
		if r.Nth > 0 && r.Nth == l.n || r.First > 0 && l.n <= r.First || r.Match != nil && bytes.Contains(p, r.Match) {
			r.hits++
			return true
		}
	}
	return false
}

func (l *Link) chance(p float64) bool { return p > 0 && l.rng.Float64() < p }

// lose draws a loss from the Gilbert-Elliott chain or the correlated
// random model.
func (l *Link) lose() bool {
	if ge := l.f.GilbertElliott; ge != nil {
		if l.bad {
			l.bad = !l.chance(ge.R)
		} else {
			l.bad = l.chance(ge.P)
		}
		if l.bad {
			lb := ge.LossBad
			if lb == 0 {
				lb = 1
			}
			return l.chance(lb)
		}
		return l.chance(ge.LossGood)
	}
	if l.f.Loss <= 0 {
		return false
	}
	x := l.rng.Float64()
	if c := l.f.Correlation; c > 0 {
		x = c*l.lastLoss + (1-c)*x
		l.lastLoss = x
	}
	return x < l.f.Loss
}

// delay draws one datagram's delay: Delay with Jitter, never negative.
func (l *Link) delay() time.Duration {
	d := float64(l.f.Delay)
	if j := float64(l.f.Jitter); j > 0 {
		if l.f.NormalJitter {
			d += l.rng.NormFloat64() * j
		} else {
			d += (l.rng.Float64()*2 - 1) * j
		}
	}
	return time.Duration(math.Max(d, 0))
}
