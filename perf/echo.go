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
	"time"

	"github.com/netkit-dev/netkit/latency"

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
	// Fresh opens a new connection for every request and closes it after
	// the echo, Conns at a time: a measure of connection set-up. Latency
	// then runs from the start of the connect to the end of the echo, and
	// Depth is 1 whatever it is set to.
	Fresh bool
	// Loops is the number of event loops (OS threads) of the epoll engine,
	// used on Linux for tcp and unix targets. If zero, GOMAXPROCS.
	Loops int
	// Dialer opens the connections. If nil, a zero endpoint.Dialer.
	Dialer *endpoint.Dialer
}

// EchoResult is what an echo load test measured.
type EchoResult struct {
	Target   string        `json:"target"`
	Conns    int           `json:"connections"`
	Payload  int           `json:"payload_bytes"`
	Depth    int           `json:"depth"`
	Fresh    bool          `json:"fresh_connections"`
	Engine   string        `json:"engine"` // epoll or goroutines
	Duration time.Duration `json:"duration_ns"`
	Requests uint64        `json:"requests"`
	// AllRequests counts the warm-up's echoes too: a server's CPU time
	// over the whole run divides by it.
	AllRequests uint64        `json:"requests_with_warmup"`
	Errors      uint64        `json:"errors"`
	FirstError  string        `json:"first_error,omitempty"`
	ReqPerSec   float64       `json:"requests_per_second"`
	MBPerSec    float64       `json:"mb_per_second"` // echoed payload, one way, 10^6 bytes
	P50         time.Duration `json:"p50_ns"`
	P99         time.Duration `json:"p99_ns"`
	P999        time.Duration `json:"p999_ns"`
	Max         time.Duration `json:"max_ns"`
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
// connection, for Warmup plus Duration; with Fresh, each request has a
// connection of its own. Requests whose echo differs, and connections that
// fail, count as errors. It returns an error only when no connection could
// be opened.
//
// On Linux, tcp and unix targets are driven by an epoll engine, a few
// threads for all the connections, so that the load generator spends as
// little CPU as it can of a machine it shares with the server; tls
// targets, and other systems, have a goroutine per connection.
func RunEcho(ctx context.Context, cfg EchoConfig) (EchoResult, error) {
	o := cfg.defaults()
	res := EchoResult{Target: o.Target.String(), Conns: o.Conns, Payload: o.Payload, Depth: o.Depth, Fresh: o.Fresh, Engine: "goroutines"}
	if o.Fresh {
		res.Depth = 1
	}
	var t tally
	var conns []net.Conn
	var dest net.Addr
	if o.Fresh {
		// One connection first: it fails fast if nothing listens, and
		// it resolves the target once for all the others.
		c, err := o.Dialer.Dial(ctx, o.Target)
		if err != nil {
			return res, fmt.Errorf("perf: no connection to %s: %v", o.Target, err)
		}
		dest = c.RemoteAddr()
		c.Close()
	} else {
		var err error
		if conns, err = dialAll(ctx, o, &t); err != nil {
			return res, err
		}
	}
	start := time.Now()
	measureFrom := start.Add(o.Warmup)
	end := measureFrom.Add(o.Duration)
	if engine, ok := epollEcho(ctx, o, conns, dest, measureFrom, end, &t); ok {
		res.Engine = engine
	} else {
		goroutineEcho(ctx, o, conns, measureFrom, end, &t)
	}
	res.Duration = min(time.Since(measureFrom), o.Duration)
	if ctx.Err() != nil {
		res.Duration = max(time.Since(measureFrom), 0)
	}
	res.Requests, res.AllRequests, res.Errors, res.FirstError = t.count, t.all, t.errs, t.first
	if secs := res.Duration.Seconds(); secs > 0 {
		res.ReqPerSec = float64(res.Requests) / secs
		res.MBPerSec = float64(res.Requests) * float64(o.Payload) / secs / 1e6
	}
	h := &t.h
	res.P50, res.P99, res.P999, res.Max = h.Quantile(0.50), h.Quantile(0.99), h.Quantile(0.999), h.Max()
	if res.AllRequests == 0 && res.Errors == 0 && ctx.Err() == nil {
		return res, fmt.Errorf("perf: %w from %s in %s", ErrNoEcho, o.Target, max(o.Warmup, 0)+o.Duration)
	}
	return res, nil
}

// ErrNoEcho is a load test in which no request came back: the target
// accepts connections but does not echo.
var ErrNoEcho = errors.New("no echo came back (is it an echo server?)")

// tally is what a test counted: latencies of echoes checked in the
// measured time, their number, and errors.
type tally struct {
	mu    sync.Mutex
	h     latency.Histogram
	count uint64 // in the measured time
	all   uint64 // warm-up included
	errs  uint64
	first string
}

func (t *tally) fail(err error) {
	t.mu.Lock()
	t.errs++
	if t.first == "" {
		t.first = err.Error()
	}
	t.mu.Unlock()
}

// add merges a worker's own histogram, count and errors.
func (t *tally) add(h *latency.Histogram, count, all, errs uint64, first error) {
	t.mu.Lock()
	t.h.Merge(h)
	t.count += count
	t.all += all
	t.errs += errs
	if t.first == "" && first != nil {
		t.first = first.Error()
	}
	t.mu.Unlock()
}

// dialAll opens every connection, 64 at a time.
func dialAll(ctx context.Context, o EchoConfig, t *tally) ([]net.Conn, error) {
	conns := make([]net.Conn, o.Conns)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := o.Dialer.Dial(ctx, o.Target)
			if err != nil {
				t.fail(err)
				return
			}
			conns[i] = c
		})
	}
	wg.Wait()
	var open []net.Conn
	for _, c := range conns {
		if c != nil {
			open = append(open, c)
		}
	}
	if len(open) == 0 {
		return nil, fmt.Errorf("perf: no connection to %s: %s", o.Target, t.first)
	}
	return open, nil
}

// goroutineEcho runs the test with a goroutine per connection.
func goroutineEcho(ctx context.Context, o EchoConfig, conns []net.Conn, measureFrom, end time.Time, t *tally) {
	rp := newRamp(o.Payload)
	var wg sync.WaitGroup
	if o.Fresh {
		for i := range o.Conns {
			wg.Go(func() {
				var h latency.Histogram
				var n, all uint64
				for seq := uint64(0); time.Now().Before(end) && ctx.Err() == nil; seq++ {
					t0 := time.Now()
					err := freshOnce(ctx, o, rp, i, seq)
					if err != nil {
						if ctx.Err() == nil {
							t.fail(err)
						}
						continue
					}
					all++
					if now := time.Now(); !now.Before(measureFrom) && now.Before(end) {
						h.Record(now.Sub(t0))
						n++
					}
				}
				t.add(&h, n, all, 0, nil)
			})
		}
		wg.Wait()
		return
	}
	for i, c := range conns {
		wg.Go(func() {
			defer c.Close()
			var h latency.Histogram
			var n, all uint64
			err := echoConn(ctx, c, i, o, rp, measureFrom, end, &h, &n, &all)
			var errs uint64
			if err != nil {
				errs = 1
			}
			t.add(&h, n, all, errs, err)
		})
	}
	wg.Wait()
}

// freshOnce opens a connection, sends one request, checks its echo and
// closes.
func freshOnce(ctx context.Context, o EchoConfig, rp ramp, id int, seq uint64) error {
	c, err := o.Dialer.Dial(ctx, o.Target)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	req := make([]byte, o.Payload)
	rp.fill(req, id, seq)
	if _, err := c.Write(req); err != nil {
		return err
	}
	if _, err := io.ReadFull(c, req); err != nil {
		return fmt.Errorf("read echo: %w", err)
	}
	if !rp.check(req, 0, id, seq) {
		return errors.New("an echo differs from its request")
	}
	return nil
}

// ramp makes and checks requests. Request seq of connection conn is the
// sequence number (8 bytes, little-endian), then bytes that depend on
// both, so that a reply that is another connection's, or another
// request's, or shifted, is caught: byte i is byte(conn*7 + seq + i). The
// ramp holds byte(j) for every j the body can need, so that making or
// checking a request is a copy or a compare.
type ramp []byte

func newRamp(payload int) ramp {
	r := make(ramp, payload+256)
	for j := range r {
		r[j] = byte(j)
	}
	return r
}

func reqBase(conn int, seq uint64) int { return int(byte(conn*7 + int(seq))) }

// fill writes request seq of connection conn to p.
func (r ramp) fill(p []byte, conn int, seq uint64) {
	var hdr [8]byte
	binary.LittleEndian.PutUint64(hdr[:], seq)
	n := copy(p, hdr[:])
	b := reqBase(conn, seq)
	copy(p[n:], r[b+n:b+len(p)])
}

// check reports whether got is what bytes off to off+len(got) of request
// seq of connection conn should be.
func (r ramp) check(got []byte, off int, conn int, seq uint64) bool {
	var hdr [8]byte
	binary.LittleEndian.PutUint64(hdr[:], seq)
	for len(got) > 0 && off < len(hdr) {
		if got[0] != hdr[off] {
			return false
		}
		got, off = got[1:], off+1
	}
	b := reqBase(conn, seq)
	return bytes.Equal(got, r[b+off:b+off+len(got)])
}

func echoConn(ctx context.Context, c net.Conn, id int, o EchoConfig, rp ramp, measureFrom, end time.Time, h *latency.Histogram, count, all *uint64) error {
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	c.SetDeadline(end.Add(10 * time.Second))
	req := make([]byte, o.Payload)
	got := make([]byte, o.Payload)
	sent := make([]time.Time, o.Depth) // ring of send times
	var next, done uint64
	send := func() error {
		rp.fill(req, id, next)
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
		if !rp.check(got, 0, id, done) {
			return errors.New("an echo differs from its request")
		}
		*all++
		if !now.Before(measureFrom) && now.Before(end) {
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
