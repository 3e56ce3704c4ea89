package rudp

import (
	"math"
	"time"
)

// rttEstimator keeps the smoothed round-trip time and the retransmission
// timeout as RFC 6298 computes them, with QUIC's lower floor (see minRTO).
type rttEstimator struct {
	srtt, rttvar, latest time.Duration
	min                  time.Duration // the lowest sample seen
	backoff              int
}

const (
	initialRTO = time.Second
	// minRTO is far below RFC 6298's one second and Linux's 200 ms: this
	// transport acknowledges at once (no 200 ms delayed ACK to wait out),
	// so, as QUIC's probe timeout, the floor only has to cover timer
	// granularity and scheduling.
	minRTO = 25 * time.Millisecond
	maxRTO = 60 * time.Second
)

func (r *rttEstimator) sample(rtt time.Duration) {
	if rtt <= 0 {
		rtt = time.Microsecond
	}
	r.latest = rtt
	if r.min == 0 || rtt < r.min {
		r.min = rtt
	}
	if r.srtt == 0 {
		r.srtt, r.rttvar = rtt, rtt/2
	} else {
		diff := r.srtt - rtt
		if diff < 0 {
			diff = -diff
		}
		r.rttvar = (3*r.rttvar + diff) / 4
		r.srtt = (7*r.srtt + rtt) / 8
	}
	r.backoff = 0
}

// rto is RFC 6298's timeout, but never under two smoothed RTTs: the tail
// loss probe (two RTTs after the last send) must have its chance first,
// for a timeout throws the whole flight away, and on a 20 ms path
// srtt + 4 rttvar with little jitter comes to barely more than one RTT,
// which a host busy for a few milliseconds overruns.
func (r *rttEstimator) rto() time.Duration {
	d := initialRTO
	if r.srtt > 0 {
		d = r.srtt + max(time.Millisecond, 4*r.rttvar, r.srtt)
	}
	d = max(d, minRTO) << min(r.backoff, 16)
	return min(d, maxRTO)
}

// cubic is CUBIC congestion control (RFC 9438), counted in packets: it
// reduces on loss, by a factor of 0.7, and grows back along a cubic
// curve that does not depend on the RTT. Config.Congestion "cubic"
// chooses it, to share a bottleneck with loss-based flows (Linux TCP,
// quic-go) on their terms.
type cubic struct {
	cwnd, ssthresh float64
	wMax, k        float64
	epoch          time.Time
	wEst           float64
	recoverySeq    uint32 // losses of packets sent before it are the same event
	inRecovery     bool
	maxCwnd        float64
}

const (
	cubicC    = 0.4
	cubicBeta = 0.7
	initCwnd  = 10
	minCwnd   = 2
)

func newCubic(maxCwnd int) *cubic {
	return &cubic{cwnd: initCwnd, ssthresh: math.Inf(1), maxCwnd: float64(maxCwnd)}
}

// onAck grows the window for acked packets newly delivered.
func (c *cubic) onAck(acked int, now time.Time, srtt time.Duration) {
	if acked <= 0 {
		return
	}
	if c.cwnd < c.ssthresh {
		c.cwnd = min(c.cwnd+float64(acked), c.maxCwnd)
		return
	}
	if c.epoch.IsZero() {
		c.epoch = now
		if c.cwnd < c.wMax {
			c.k = math.Cbrt((c.wMax - c.cwnd) / cubicC)
		} else {
			c.k, c.wMax = 0, c.cwnd
		}
		c.wEst = c.cwnd
	}
	t := now.Sub(c.epoch).Seconds() + srtt.Seconds()
	target := cubicC*math.Pow(t-c.k, 3) + c.wMax
	// The Reno-friendly estimate, so that CUBIC is never slower than
	// Reno would be on a short-RTT path.
	c.wEst += 3 * (1 - cubicBeta) / (1 + cubicBeta) * float64(acked) / c.cwnd
	target = max(target, c.wEst)
	if target > c.cwnd {
		c.cwnd += (target - c.cwnd) / c.cwnd * float64(acked)
	} else {
		c.cwnd += 0.01 * float64(acked) / c.cwnd
	}
	c.cwnd = min(c.cwnd, c.maxCwnd)
}

// onLoss reduces the window once per loss event: lost is the lost
// packet, next the next sequence number to be sent.
func (c *cubic) onLoss(lost, next uint32, _ int) {
	if c.inRecovery && before(lost, c.recoverySeq) {
		return
	}
	c.inRecovery, c.recoverySeq = true, next
	c.wMax = c.cwnd
	c.cwnd = max(c.cwnd*cubicBeta, minCwnd)
	c.ssthresh = c.cwnd
	c.epoch = time.Time{}
}

// onTimeout collapses the window after a retransmission timeout.
func (c *cubic) onTimeout(next uint32) {
	c.wMax = c.cwnd
	c.ssthresh = max(c.cwnd*cubicBeta, minCwnd)
	c.cwnd = minCwnd
	c.epoch = time.Time{}
	c.inRecovery, c.recoverySeq = true, next
}

// leaveRecovery ends the loss event once every packet sent before it is
// acknowledged.
func (c *cubic) acked(una uint32) {
	if c.inRecovery && !before(una, c.recoverySeq) {
		c.inRecovery = false
	}
}
