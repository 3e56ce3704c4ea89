package perf

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
)

// EchoConfig describes an echo load test. Its zero value, with a Target,
// runs one connection of 64-byte requests for 10 seconds after 1 second of
// warm-up.
type EchoConfig struct {
	Target endpoint.Endpoint
	// Conns is the number of connections, each on its own goroutine. If
	// zero, 1.
	Conns int
	// Payload is the size of each request. If zero, 64 bytes.
	Payload int
	// Depth is how many requests each connection keeps in flight
	// (pipelining). If zero, 1.
	Depth int
	// Duration is how long to measure. If zero, 10s.
	Duration time.Duration
	// Warmup runs before measuring and is not counted. If zero, 1s; set
	// it negative for none.
	Warmup time.Duration
	// Dialer opens the connections. If nil, a zero endpoint.Dialer.
	Dialer *endpoint.Dialer
}

// EchoResult is what an echo load test measured.
type EchoResult struct {
	Target     string        `json:"target"`
	Conns      int           `json:"connections"`
	Payload    int           `json:"payload_bytes"`
	Depth      int           `json:"depth"`
	Duration   time.Duration `json:"duration_ns"`
	Requests   uint64        `json:"requests"`
	Errors     uint64        `json:"errors"`
	FirstError string        `json:"first_error,omitempty"`
	ReqPerSec  float64       `json:"requests_per_second"`
	MBPerSec   float64       `json:"mb_per_second"` // echoed payload, one way, 10^6 bytes
	P50        time.Duration `json:"p50_ns"`
	P99        time.Duration `json:"p99_ns"`
	P999       time.Duration `json:"p999_ns"`
	Max        time.Duration `json:"max_ns"`
}

func (c *EchoConfig) defaults() EchoConfig {
	o := *c
	if o.Conns <= 0 {
		o.Conns = 1
	}
	if o.Payload <= 0 {
		o.Payload = 64
	}
	if o.Depth <= 0 {
		o.Depth = 1
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Warmup == 0 {
		o.Warmup = time.Second
	}
	if o.Warmup < 0 {
		o.Warmup = 0
	}
	if o.Dialer == nil {
		o.Dialer = &endpoint.Dialer{}
	}
	return o
}

// RunEcho opens the connections, then sends requests and checks that each
// comes back byte for byte, keeping Depth requests in flight on each
// connection, for Warmup plus Duration. Requests whose echo differs, and
// connections that fail, count as errors. It returns an error only when
// no connection could be opened.
func RunEcho(ctx context.Context, cfg EchoConfig) (EchoResult, error) {
	o := cfg.defaults()
	res := EchoResult{Target: o.Target.String(), Conns: o.Conns, Payload: o.Payload, Depth: o.Depth}
	conns := make([]net.Conn, o.Conns)
	var errs atomic.Uint64
	var firstErr atomic.Value
	fail := func(err error) {
		errs.Add(1)
		firstErr.CompareAndSwap(nil, err.Error())
	}
	// Open every connection first, 64 at a time.
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := o.Dialer.Dial(ctx, o.Target)
			if err != nil {
				fail(err)
				return
			}
			conns[i] = c
		})
	}
	wg.Wait()
	opened := 0
	for _, c := range conns {
		if c != nil {
			opened++
		}
	}
	if opened == 0 {
		return res, fmt.Errorf("perf: no connection to %s: %v", o.Target, firstErr.Load())
	}
	start := time.Now()
	measureFrom := start.Add(o.Warmup)
	end := measureFrom.Add(o.Duration)
	hists := make([]Histogram, len(conns))
	counts := make([]uint64, len(conns))
	for i, c := range conns {
		if c == nil {
			continue
		}
		wg.Go(func() {
			defer c.Close()
			if err := echoConn(ctx, c, i, o, measureFrom, end, &hists[i], &counts[i]); err != nil {
				fail(err)
			}
		})
	}
	wg.Wait()
	var h Histogram
	for i := range hists {
		h.Merge(&hists[i])
		res.Requests += counts[i]
	}
	res.Duration = min(time.Since(measureFrom), o.Duration)
	if ctx.Err() != nil {
		res.Duration = max(time.Since(measureFrom), 0)
	}
	res.Errors = errs.Load()
	if e := firstErr.Load(); e != nil {
		res.FirstError = e.(string)
	}
	if secs := res.Duration.Seconds(); secs > 0 {
		res.ReqPerSec = float64(res.Requests) / secs
		res.MBPerSec = float64(res.Requests) * float64(o.Payload) / secs / 1e6
	}
	res.P50, res.P99, res.P999, res.Max = h.Quantile(0.50), h.Quantile(0.99), h.Quantile(0.999), h.Max()
	return res, nil
}

// fill writes the request that connection conn sends as number seq: the
// sequence number, then bytes that depend on both, so that a reply that is
// another connection's, or another request's, or shifted, is caught.
func fill(p []byte, conn int, seq uint64) {
	var hdr [8]byte
	binary.LittleEndian.PutUint64(hdr[:], seq)
	n := copy(p, hdr[:])
	for i := n; i < len(p); i++ {
		p[i] = byte(conn*7 + int(seq) + i)
	}
}

func echoConn(ctx context.Context, c net.Conn, id int, o EchoConfig, measureFrom, end time.Time, h *Histogram, count *uint64) error {
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	c.SetDeadline(end.Add(10 * time.Second))
	req := make([]byte, o.Payload)
	want := make([]byte, o.Payload)
	got := make([]byte, o.Payload)
	sent := make([]time.Time, o.Depth) // ring of send times
	var next, done uint64
	send := func() error {
		fill(req, id, next)
		sent[next%uint64(o.Depth)] = time.Now()
		next++
		_, err := c.Write(req)
		return err
	}
	for range o.Depth {
		if err := send(); err != nil {
			return err
		}
	}
	for {
		if _, err := io.ReadFull(c, got); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("read echo: %w", err)
		}
		now := time.Now()
		fill(want, id, done)
		if !bytes.Equal(got, want) {
			return errors.New("an echo differs from its request")
		}
		if !now.Before(measureFrom) {
			h.Record(now.Sub(sent[done%uint64(o.Depth)]))
			*count++
		}
		done++
		if !now.Before(end) || ctx.Err() != nil {
			return nil
		}
		if err := send(); err != nil {
			return err
		}
	}
}
