package dnsclient

import (
	"context"
	"sync"
	"time"

	"github.com/netkit-dev/netkit/latency"
)

// BatchResult is the outcome of one query of a batch.
type BatchResult struct {
	Query  Query
	Answer *Answer // nil when Err is set
	Err    error
}

// BatchSummary counts a batch.
type BatchSummary struct {
	Queries, Answered, Failed int
	Elapsed                   time.Duration
	// Latency holds the round-trip time of every answered query.
	Latency latency.Histogram
}

// Batch runs queries concurrently, parallel at a time (32 if zero), each
// through Lookup. each, if set, is called with every result as it
// completes, one call at a time.
func (c *Client) Batch(ctx context.Context, queries []Query, parallel int, each func(BatchResult)) *BatchSummary {
	if parallel <= 0 {
		parallel = 32
	}
	sum := &BatchSummary{Queries: len(queries)}
	start := time.Now()
	var mu sync.Mutex
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, q := range queries {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ans, err := c.Lookup(ctx, q)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				sum.Failed++
			} else {
				sum.Answered++
				sum.Latency.Record(ans.RTT)
			}
			if each != nil {
				each(BatchResult{Query: q, Answer: ans, Err: err})
			}
		})
	}
	wg.Wait()
	sum.Elapsed = time.Since(start)
	return sum
}
