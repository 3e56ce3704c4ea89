// Package latency counts durations in a fixed-size log-linear histogram
// and reads quantiles from it: p50, p99 and p99.9 of request latencies
// without keeping every sample. perf, the DNS batch runner and the echo
// load generator share it.
package latency

import (
	"math/bits"
	"time"
)

// Histogram counts durations in log-linear buckets: 64 buckets per power
// of two, so every value is kept to within 1.6%. It needs no allocation to
// record, and histograms of many goroutines merge. The zero Histogram is
// empty and ready to use.
type Histogram struct {
	counts [64 * 64]uint64
	n      uint64
	max    time.Duration
}

const subBuckets = 64

func bucketOf(d time.Duration) int {
	v := uint64(max(d, 0))
	if v < subBuckets {
		return int(v)
	}
	e := bits.Len64(v) - 7 // keep the top 7 bits: 1 implied + 6 of mantissa
	return (e+1)*subBuckets + int(v>>e) - subBuckets
}

// lowerBound is the smallest duration of bucket i.
func lowerBound(i int) time.Duration {
	if i < subBuckets {
		return time.Duration(i)
	}
	e := i/subBuckets - 1
	m := uint64(i%subBuckets + subBuckets)
	return time.Duration(m << e)
}

// Record counts one duration.
func (h *Histogram) Record(d time.Duration) {
	i := bucketOf(d)
	if i >= len(h.counts) {
		i = len(h.counts) - 1
	}
	h.counts[i]++
	h.n++
	h.max = max(h.max, d)
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// Count is the number of durations recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the longest duration recorded.
func (h *Histogram) Max() time.Duration { return h.max }

// Quantile returns the duration below which a fraction q (0 to 1) of the
// recorded durations fall, to within a bucket's width.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q * float64(h.n))
	if rank >= h.n {
		rank = h.n - 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen > rank {
			return min(lowerBound(i+1)-1, h.max)
		}
	}
	return h.max
}
