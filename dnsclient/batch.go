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

// BatchOptions shape Batch.
type BatchOptions struct {
	// Parallel is the number of queries in flight at once. If zero, 32.
	Parallel int
	// Unordered hands results over as they complete, not in the order of
	// the queries.
	Unordered bool
}

// Batch runs queries concurrently, each through Lookup. each, if set, is
// called with every result, one call at a time: in the order of the
// queries (a result waits for those before it), or as they complete with
// Unordered.
func (c *Client) Batch(ctx context.Context, queries []Query, o BatchOptions, each func(BatchResult)) *BatchSummary {
	parallel := o.Parallel
	if parallel <= 0 {
		parallel = 32
	}
	done := make([]*BatchResult, len(queries)) // results waiting for those before them
	next := 0
	sum := &BatchSummary{Queries: len(queries)}
	start := time.Now()
	var mu sync.Mutex
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, q := range queries {
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
			r := BatchResult{Query: q, Answer: ans, Err: err}
			switch {
			case each == nil:
			case o.Unordered:
				each(r)
			default:
				done[i] = &r
				for ; next < len(done) && done[next] != nil; next++ {
					each(*done[next])
					done[next] = nil
				}
			}
		})
	}
	wg.Wait()
	sum.Elapsed = time.Since(start)
	return sum
}
