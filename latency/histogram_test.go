package latency

import (
	"testing"
	"time"
)

func TestHistogram(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 500 * time.Microsecond, 0.99: 990 * time.Microsecond, 0.999: 999 * time.Microsecond} {
		got := h.Quantile(q)
		if d := got - want; d < -want/50 || d > want/50 {
			t.Errorf("Quantile(%v) = %v, want %v within 2%%", q, got, want)
		}
	}
	if h.Count() != 1000 || h.Max() != time.Millisecond {
		t.Errorf("count %d max %v", h.Count(), h.Max())
	}
	var g Histogram
	g.Record(time.Hour)
	h.Merge(&g)
	if h.Count() != 1001 || h.Max() != time.Hour || h.Quantile(1) != time.Hour {
		t.Errorf("after merge: count %d max %v q1 %v", h.Count(), h.Max(), h.Quantile(1))
	}
	if (&Histogram{}).Quantile(0.5) != 0 {
		t.Error("empty quantile")
	}
	for _, d := range []time.Duration{0, 1, 63, 64, 65, 1000, 123456789} {
		if lb := lowerBound(bucketOf(d)); lb > d || d-lb > d/60+1 {
			t.Errorf("bucket of %v starts at %v", d, lb)
		}
	}
}
