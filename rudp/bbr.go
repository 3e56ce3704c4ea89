package rudp

import (
	"math/rand/v2"
	"time"
)

// ackSample is what one acknowledgement tells a congestion controller.
type ackSample struct {
	now        time.Time
	delivered  int    // packets newly delivered (acked or sacked)
	una        uint32 // the cumulative acknowledgement
	rtt        time.Duration
	srtt       time.Duration
	rate       float64 // delivery rate of the latest packet delivered, packets/s (0: none)
	appLimited bool    // that packet was sent when the sender had nothing more to send
	inflight   int
	total      uint64 // packets delivered so far
}

// controller decides how many packets may be in flight and how fast
// they leave.
type controller interface {
	onAck(a ackSample)
	onLoss(lost, next uint32, flight int) // flight: packets in flight when the lost one was sent
	onTimeout(next uint32)
	onSpurious()                           // a packet declared lost had arrived after all
	window() float64                       // packets
	pacingRate(srtt time.Duration) float64 // packets per second; 0: unpaced
}

// cubic as a controller.
func (c *cubic) onAckSample(a ackSample) {
	c.acked(a.una)
	c.onAck(a.delivered, a.now, a.srtt)
}

type cubicController struct{ *cubic }

func (c cubicController) onAck(a ackSample) { c.onAckSample(a) }
func (c cubicController) window() float64   { return c.cwnd }
func (c cubicController) onSpurious()       {}
func (c cubicController) pacingRate(srtt time.Duration) float64 {
	if srtt == 0 {
		return 0
	}
	gain := 1.25
	if c.cwnd < c.ssthresh {
		gain = 2
	}
	return gain * c.cwnd / srtt.Seconds()
}

// bbr is BBR congestion control as its first version describes it
// (Cardwell et al., "BBR: Congestion-Based Congestion Control", 2016):
// it models the path by its bottleneck bandwidth (the highest delivery
// rate of the last ten round trips) and its round-trip propagation time
// (the lowest RTT of the last ten seconds), paces at that bandwidth and
// keeps about two bandwidth-delay products in flight. Loss alone does not
// slow it down, so random loss on a path (what netkit impair makes, what
// a radio link has) costs only the packets lost, where a loss-based
// controller such as CUBIC would halve its rate. It is the default;
// Config.Congestion "cubic" chooses CUBIC.
type bbr struct {
	state      int
	btlBw      maxFilter // packets per second, over rounds
	rtProp     time.Duration
	rtStamp    time.Time
	pacingGain float64
	cwndGain   float64
	cwnd       float64
	round      uint64
	nextRound  uint64 // the delivered count that ends the round
	fullBw     float64
	fullCount  int
	filled     bool
	cycle      int
	cycleStart time.Time
	probeDone  time.Time
	maxCwnd    float64
	rng        *rand.Rand
	// Loss with a queue: inflightHi bounds the window after a loss seen
	// while the RTT is 40% above the propagation time (the loss of a full
	// queue, not of a noisy link); it grows back by 2% a round (about
	// what a CUBIC flow at such a window gains: at 5% a round rudp took
	// 1.45x quic-go's share of a bottleneck), or by a quarter a round on
	// a path whose own loss is 2% or more (bbrLossyPath), where a
	// loss-based flow could not hold enough to need the room.
	inflightHi float64
	lastRTT    time.Duration
	lossRound  uint64
	// A path's own loss (a radio link, impair's random loss) goes on
	// whether or not a queue has built: the loss rate of quiet rounds,
	// whose RTT stayed within 15% of the propagation time, as did the
	// round before's (whose packets its losses mostly were), is that
	// background, once 1,000 packets have shown it. Loss at a high RTT
	// counts as a queue's overflow only when the round loses more than
	// three times the background; otherwise, at 1% random loss, every
	// loss that met a queue in netkit impair clamped the window and rudp
	// moved 0.69x kcp-go. With no background (a clean path; a shared
	// tail-drop queue, whose losses come when the RTT is high) the first
	// loss at a high RTT counts, as before. (Quiet within 25% let a
	// shared 64 KiB queue's drops in as background, and one rudp flow
	// then took 2-4x quic-go's share in 2 of 8 rounds of bench/fair.sh.)
	roundLost, roundDelivered float64
	roundMaxRTT               time.Duration
	bgLost, bgSeen            float64
	hiLossRate                float64 // the highest loss rate of a round that set or lowered inflightHi
	prevQuiet                 bool
	lossExit                  bool // start-up ended on a loss, before the background was known
	// Undo: when acknowledgements are held up (a host whose cores the
	// sender shares with the path, a burst ahead of them), RACK declares
	// lost packets that arrived, and a round reads as a queue's
	// overflow. The bound such a round set is undone once enough of its
	// losses prove spurious that the rest are no more than three times
	// the background: 1 in 5 rounds of 64 MiB through netkit impair at
	// 1-5% loss came in at half the rate after such a stall.
	undo                              bool
	undoHi, undoRate                  float64 // the bound and its loss rate before the clamp
	undoLost, undoTotal, undoSpurious float64 // the clamping round's losses and packets; of them, proved spurious
	undoStartup                       bool    // the clamp ended start-up
	// Acknowledgement aggregation (as Linux's BBR measures it): acks
	// that come in bursts (a receiver that acknowledges a batch of
	// datagrams at once, delayed acks, a busy core on loopback) deliver
	// more in a moment than the bandwidth explains. The excess, the most
	// of the last five rounds, is added to the window once the pipe is
	// full, so that the sender is not starved between the bursts.
	ackEpoch      time.Time
	ackEpochAcked float64
	extraAcked    maxFilter
}

const (
	bbrStartup = iota
	bbrDrain
	bbrProbeBW
	bbrProbeRTT
)

const (
	bbrHighGain    = 2.885 // 2/ln(2): doubles the rate each round in startup
	bbrMinCwnd     = 4
	bbrRTPropLife  = 10 * time.Second
	bbrProbeRTTFor = 200 * time.Millisecond
	// bbrMaxAggregation bounds what ack aggregation adds to the window:
	// 100 ms at the bottleneck bandwidth, as Linux bounds it.
	bbrMaxAggregation = 100 * time.Millisecond
	// bbrLossyPath is the background loss rate from which a loss-based
	// flow is held to a few Mbit/s (Mathis: 1.22 MSS / (RTT sqrt(p)),
	// 4.8 Mbit/s at 20 ms): above it a bound regrows fast, and a start-up
	// that ended on a loss before the background was known resumes. (At
	// 0.5% a shared 64 KiB queue's drops, about 1% from quiet rounds,
	// counted, and start-up resumed there round after round.)
	bbrLossyPath = 0.02
)

var bbrCycle = [...]float64{1.25, 0.75, 1, 1, 1, 1, 1, 1}

// newBBR makes the controller; seed picks where its gain cycle starts
// (random if 0, as each connection's should be, so that flows sharing a
// bottleneck do not probe in step).
func newBBR(maxCwnd int, seed uint64) *bbr {
	if seed == 0 {
		seed = rand.Uint64()
	}
	return &bbr{state: bbrStartup, pacingGain: bbrHighGain, cwndGain: bbrHighGain, cwnd: initCwnd,
		maxCwnd: float64(maxCwnd), btlBw: maxFilter{window: 10}, extraAcked: maxFilter{window: 5}, rng: rand.New(rand.NewPCG(seed, 1))}
}

func (b *bbr) window() float64 {
	if b.state == bbrProbeRTT {
		return bbrMinCwnd
	}
	return b.cwnd
}

func (b *bbr) pacingRate(srtt time.Duration) float64 {
	if bw := b.btlBw.get(); bw > 0 {
		return b.pacingGain * bw
	}
	if srtt > 0 {
		return bbrHighGain * b.cwnd / srtt.Seconds()
	}
	return 0
}

func (b *bbr) bdp() float64 {
	if b.rtProp == 0 || b.btlBw.get() == 0 {
		return initCwnd
	}
	return b.btlBw.get() * b.rtProp.Seconds()
}

func (b *bbr) onAck(a ackSample) {
	if a.delivered == 0 {
		return
	}
	// Round trips: one ends when a packet sent after it began is
	// delivered.
	newRound := false
	if a.total >= b.nextRound {
		b.endRound()
		b.round++
		b.nextRound = a.total + uint64(a.inflight) + 1
		newRound = true
	}
	b.roundDelivered += float64(a.delivered)
	b.roundMaxRTT = max(b.roundMaxRTT, a.rtt)
	if a.rate > 0 && (!a.appLimited || a.rate > b.btlBw.get()) {
		b.btlBw.update(b.round, a.rate)
	}
	if a.rtt > 0 && (b.rtProp == 0 || a.rtt <= b.rtProp || a.now.Sub(b.rtStamp) > bbrRTPropLife) {
		b.rtProp, b.rtStamp = a.rtt, a.now
	}
	switch b.state {
	case bbrStartup:
		if newRound && !a.appLimited {
			if bw := b.btlBw.get(); bw >= b.fullBw*1.25 {
				b.fullBw, b.fullCount = bw, 0
			} else if b.fullCount++; b.fullCount >= 3 {
				b.filled = true
			}
		}
		if b.filled {
			b.state, b.pacingGain, b.cwndGain = bbrDrain, 1/bbrHighGain, bbrHighGain
		}
	case bbrDrain:
		if float64(a.inflight) <= b.bdp() {
			b.enterProbeBW(a.now)
		}
	case bbrProbeBW:
		if a.now.Sub(b.cycleStart) > max(b.rtProp, time.Millisecond) {
			b.cycle = (b.cycle + 1) % len(bbrCycle)
			b.cycleStart = a.now
			b.pacingGain = bbrCycle[b.cycle]
		}
	case bbrProbeRTT:
		if a.now.After(b.probeDone) {
			b.rtStamp = a.now
			if b.filled {
				b.enterProbeBW(a.now)
			} else {
				b.state, b.pacingGain, b.cwndGain = bbrStartup, bbrHighGain, bbrHighGain
			}
		}
	}
	// Probe the propagation time again when it has not been seen for
	// ten seconds: drain the queue to four packets for 200 ms.
	if b.state != bbrProbeRTT && b.rtProp > 0 && a.now.Sub(b.rtStamp) > bbrRTPropLife {
		b.state = bbrProbeRTT
		b.pacingGain = 1
		b.probeDone = a.now.Add(max(bbrProbeRTTFor, b.rtProp))
	}
	b.updateAckAggregation(a)
	target := b.cwndGain*b.bdp() + 3
	if b.filled {
		target += min(b.extraAcked.get(), b.btlBw.get()*bbrMaxAggregation.Seconds())
	}
	if b.state == bbrStartup {
		b.cwnd = max(b.cwnd+float64(a.delivered), target) // grow with what is delivered
		if b.btlBw.get() > 0 {
			b.cwnd = min(b.cwnd, max(target, initCwnd)*2)
		}
	} else {
		b.cwnd = min(b.cwnd+float64(a.delivered), target)
	}
	b.lastRTT = a.rtt
	if b.inflightHi > 0 {
		if newRound {
			step := max(1, b.inflightHi/50)
			if b.backgroundLoss() >= bbrLossyPath {
				step = max(step, b.inflightHi/4)
			}
			b.inflightHi += step
		}
		if b.inflightHi >= b.cwndGain*b.bdp()+3 {
			b.inflightHi, b.hiLossRate = 0, 0 // back where the model puts the window
		} else {
			b.cwnd = min(b.cwnd, b.inflightHi)
		}
	}
	b.cwnd = min(max(b.cwnd, bbrMinCwnd), b.maxCwnd)
}

// bbrBackgroundSample is how many packets of quiet rounds the background
// loss rate needs before it counts: the first rounds are short, and a
// shared queue's overflow in them once read as a 50% background.
const bbrBackgroundSample = 1000

// endRound adds a quiet round to the background loss rate (the counts
// halve as they grow, so that it follows a path that changes), and lifts
// a bound that a start-up loss set before the background was known, when
// that round lost no more than the path does anyway.
func (b *bbr) endRound() {
	quiet := b.rtProp > 0 && b.roundMaxRTT < b.rtProp*23/20
	if b.roundDelivered > 0 && quiet && b.prevQuiet {
		b.bgLost += b.roundLost
		b.bgSeen += b.roundLost + b.roundDelivered
		if b.bgSeen > 1<<16 {
			b.bgLost, b.bgSeen = b.bgLost/2, b.bgSeen/2
		}
	}
	b.prevQuiet = quiet
	if b.lossRound == b.round && b.undo {
		b.undoLost, b.undoTotal = b.roundLost, b.roundLost+b.roundDelivered
	} else if b.round > b.lossRound+4 {
		b.undo = false // too late to tell
	}
	if b.lossRound == b.round && b.roundLost > 0 {
		// The rate the bound is judged by is the whole round's, not the
		// rate when the clamp came (barely three times the background,
		// which a background that drifts up then lifted at once).
		b.hiLossRate = max(b.hiLossRate, b.roundLost/(b.roundLost+b.roundDelivered))
	}
	bg := b.backgroundLoss()
	if b.inflightHi > 0 && b.bgSeen >= bbrBackgroundSample && (b.hiLossRate <= 3*bg || b.lossExit && bg >= bbrLossyPath) {
		b.inflightHi, b.hiLossRate = 0, 0
		if b.lossExit {
			// Start-up ended on a loss before the background was known,
			// on what proves a path that loses that much anyway, so the
			// pipe may never have been found full: go on doubling, once.
			// (At 5% random loss start-up ended at a third of the path's
			// rate, and the gain cycle took over a second to climb back:
			// rudp moved 0.72x kcp-go's 64 MiB. If start-up overflows a
			// queue again, the loss rate of that round, far above the
			// background, ends it for good.)
			b.lossExit = false
			b.resumeStartup()
		}
	}
	b.roundLost, b.roundDelivered, b.roundMaxRTT = 0, 0, 0
}

// backgroundLoss is the path's loss rate when no queue has built.
func (b *bbr) backgroundLoss() float64 {
	if b.bgSeen < bbrBackgroundSample {
		return 0 // too few to tell a path's loss from a queue's
	}
	return b.bgLost / b.bgSeen
}

// updateAckAggregation measures how far the packets acknowledged since
// the epoch began exceed what the bottleneck bandwidth delivers in that
// time; an epoch ends when the acks fall behind the bandwidth.
func (b *bbr) updateAckAggregation(a ackSample) {
	bw := b.btlBw.get()
	if bw == 0 {
		return
	}
	expected := bw * a.now.Sub(b.ackEpoch).Seconds()
	if b.ackEpoch.IsZero() || b.ackEpochAcked <= expected || b.ackEpochAcked > 1<<20 {
		b.ackEpoch, b.ackEpochAcked, expected = a.now, 0, 0
	}
	b.ackEpochAcked += float64(a.delivered)
	extra := min(b.ackEpochAcked-expected, b.cwnd)
	b.extraAcked.update(b.round, extra)
}

func (b *bbr) enterProbeBW(now time.Time) {
	b.state, b.cwndGain = bbrProbeBW, 2
	b.cycle = b.rng.IntN(len(bbrCycle)-1) + 2 // never start by draining
	b.cycle %= len(bbrCycle)
	b.pacingGain = bbrCycle[b.cycle]
	b.cycleStart = now
}

// onLoss: loss on a path whose RTT is near its propagation time is noise
// (a radio link, netkit impair's random loss) and changes nothing; loss
// while a queue has built up (the RTT 40% above the propagation time),
// more of it in the round than three times the path's background loss,
// is a full bottleneck queue, shared with others: the window is held to
// 0.7 of what was in flight when the lost packet was sent (what the queue
// overflowed at; the flight now may be far less, after a stall), once a
// round, as a loss-based flow would, so that BBR does not starve CUBIC or
// Reno flows there.
func (b *bbr) onLoss(lost, next uint32, flight int) {
	b.roundLost++
	if b.rtProp == 0 || b.lastRTT < b.rtProp*7/5 || b.lossRound == b.round {
		return
	}
	rate := b.roundLost / max(float64(flight), b.roundLost+b.roundDelivered)
	if rate <= 3*b.backgroundLoss() {
		return
	}
	b.lossRound = b.round
	if !b.undo {
		b.undo, b.undoHi, b.undoRate, b.undoSpurious = true, b.inflightHi, b.hiLossRate, 0
		b.undoStartup = b.state == bbrStartup
	}
	b.hiLossRate = max(b.hiLossRate, rate)
	hi := max(float64(flight)*0.7, bbrMinCwnd)
	if b.inflightHi == 0 || hi < b.inflightHi {
		b.inflightHi = hi
	}
	b.cwnd = min(b.cwnd, b.inflightHi)
	if b.state == bbrStartup {
		b.filled = true // a queue overflowed: the pipe is full
		b.lossExit = b.bgSeen < bbrBackgroundSample
		b.state, b.pacingGain, b.cwndGain = bbrDrain, 1/bbrHighGain, bbrHighGain
	}
}

// onSpurious counts a loss proved spurious against the latest clamp, and
// undoes the clamp when the losses left are the path's own.
func (b *bbr) onSpurious() {
	if !b.undo || b.undoTotal == 0 {
		return // no clamp to undo, or its round's figures are not in yet
	}
	b.undoSpurious++
	if (b.undoLost-b.undoSpurious)/b.undoTotal > 3*b.backgroundLoss() {
		return
	}
	b.inflightHi, b.hiLossRate, b.undo = b.undoHi, b.undoRate, false
	if b.undoStartup && b.state != bbrProbeRTT {
		b.resumeStartup()
	}
}

// resumeStartup goes back to doubling the rate each round, after a loss
// that ended start-up proved no queue's, until the bandwidth stops
// growing. (lossExit stays as it was: clearing it when a clamp was
// undone, so that a start-up resumed that way could not resume again
// once the background was known, gave a median of 252 Mbit/s at 5%
// random loss against 262 over 12 seeds, and three rounds under 190.)
func (b *bbr) resumeStartup() {
	b.filled, b.fullCount = false, 0
	b.state, b.pacingGain, b.cwndGain = bbrStartup, bbrHighGain, bbrHighGain
}

// onTimeout: after a retransmission timeout the model may be stale; keep
// it, but restart from a small window that the acknowledgements rebuild.
func (b *bbr) onTimeout(next uint32) { b.cwnd = bbrMinCwnd }

// maxFilter keeps the highest value seen over the last window rounds.
type maxFilter struct {
	window uint64
	best   [3]struct {
		round uint64
		v     float64
	}
}

func (f *maxFilter) get() float64 { return f.best[0].v }

// update is Kathleen Nichols' windowed max-filter, as BBR uses it: the
// best, second best and third best of the window.
func (f *maxFilter) update(round uint64, v float64) {
	s := struct {
		round uint64
		v     float64
	}{round, v}
	if v >= f.best[0].v || round-f.best[2].round > f.window {
		f.best[0], f.best[1], f.best[2] = s, s, s
		return
	}
	if v >= f.best[1].v {
		f.best[1], f.best[2] = s, s
	} else if v >= f.best[2].v {
		f.best[2] = s
	}
	if round-f.best[0].round > f.window {
		f.best[0], f.best[1], f.best[2] = f.best[1], f.best[2], s
		if round-f.best[0].round > f.window {
			f.best[0], f.best[1] = f.best[1], f.best[2]
		}
	}
}
