package latency_test

import (
	"fmt"
	"time"

	"github.com/netkit-dev/netkit/latency"
)

// Record latencies and read percentiles, within 1.6% of the true value,
// without keeping the samples.
func ExampleHistogram() {
	var h latency.Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	fmt.Println(h.Count(), h.Quantile(0.5).Round(100*time.Millisecond), h.Quantile(0.9).Round(100*time.Millisecond), h.Max())
	// Output: 1000 500ms 900ms 1s
}
