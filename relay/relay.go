// Package relay copies bytes both ways between two connections, as a
// port forwarder or netcat does, with TCP's half-close done right: when
// one side finishes sending, the relay shuts down the write side of the
// other and keeps the opposite direction flowing until it ends too.
//
// Between two TCP sockets on Linux the bytes move with splice(2) through a
// pipe and never enter user space; elsewhere they are copied through a
// large pooled buffer.
package relay

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Config tunes a relay. Its zero value relays until both directions end.
type Config struct {
	// IdleTimeout ends the relay when no byte has moved either way for
	// this long. If zero, never.
	IdleTimeout time.Duration
	// BufferSize is the size of each direction's copy buffer when the
	// bytes cannot be spliced. If zero, 256 KiB.
	BufferSize int
	// NoSplice copies through user space even where splice would work.
	NoSplice bool
	// HalfClosedTimeout, if set, takes IdleTimeout's place once one
	// direction has ended and the other goes on: RFC 5382's transitory
	// timeout, for a peer that half-closed and vanished.
	HalfClosedTimeout time.Duration
	// Meter, if set, is kept up to date as bytes move, so that a relay in
	// progress can be watched.
	Meter *Meter
}

// Meter counts a relay's bytes while it runs. Its zero value is ready.
type Meter struct {
	AToB, BToA atomic.Int64
	ended      atomic.Int32 // directions that have ended
}

// Ended reports how many directions have ended: 0, 1 (half-closed) or 2.
func (m *Meter) Ended() int { return int(m.ended.Load()) }

// Stats reports what a relay moved.
type Stats struct {
	AToB, BToA int64 // bytes copied each way
	// Spliced reports whether the bytes moved by splice(2).
	Spliced  bool
	Duration time.Duration
}

// ErrIdle ends a relay that saw no traffic for Config.IdleTimeout.
var ErrIdle = errors.New("relay: idle timeout")

// Relay copies a to b and b to a until both directions have ended, then
// closes both. A direction ends at EOF (the other side's write half is then
// shut down, where it has one: a CloseWrite method) or at an error, which
// also ends the other direction. Relay returns nil when both ended at EOF,
// and otherwise the first error: a reset, ErrIdle, or ctx's error.
func Relay(ctx context.Context, a, b io.ReadWriteCloser, cfg Config) (Stats, error) {
	start := time.Now()
	m := cfg.Meter
	if m == nil {
		m = new(Meter)
	}
	r := &relay{a: a, b: b, m: m}
	r.touch()
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() { r.fail(ctx.Err()) })
	defer stop()
	if cfg.IdleTimeout > 0 || cfg.HalfClosedTimeout > 0 {
		go r.watch(cfg.IdleTimeout, cfg.HalfClosedTimeout, done)
	}
	spliced := !cfg.NoSplice && canSplice(a, b)
	var wg sync.WaitGroup
	wg.Go(func() { r.half(b, a, &m.AToB, spliced, cfg.BufferSize) })
	wg.Go(func() { r.half(a, b, &m.BToA, spliced, cfg.BufferSize) })
	wg.Wait()
	close(done)
	a.Close()
	b.Close()
	st := Stats{AToB: m.AToB.Load(), BToA: m.BToA.Load(), Spliced: spliced, Duration: time.Since(start)}
	r.mu.Lock()
	defer r.mu.Unlock()
	return st, r.err
}

type relay struct {
	a, b io.ReadWriteCloser
	m    *Meter
	last atomic.Int64 // UnixNano of the last byte moved
	// shut is set when a side without a write half of its own was closed
	// whole to pass an EOF on; the other direction's read of it then
	// fails, and that failure is the expected end, not an error.
	shut atomic.Bool

	mu  sync.Mutex
	err error
}

func (r *relay) touch() { r.last.Store(time.Now().UnixNano()) }

// fail records the first error and closes both sides, which ends both
// directions.
func (r *relay) fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
	r.a.Close()
	r.b.Close()
}

// watch ends the relay once it has been idle for d, or for half once a
// direction has ended (either may be zero: no limit).
func (r *relay) watch(d, half time.Duration, done <-chan struct{}) {
	tick := d
	if tick == 0 || (half > 0 && half < tick) {
		tick = half
	}
	t := time.NewTicker(max(tick/4, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			limit := d
			if half > 0 && r.m.ended.Load() > 0 {
				limit = half
			}
			if limit > 0 && time.Since(time.Unix(0, r.last.Load())) >= limit {
				r.fail(ErrIdle)
				return
			}
		}
	}
}

// half copies src to dst until EOF or an error.
func (r *relay) half(dst io.Writer, src io.Reader, count *atomic.Int64, spliced bool, bufSize int) {
	moved := func(n int) {
		count.Add(int64(n))
		r.touch()
	}
	var err error
	defer r.m.ended.Add(1)
	if spliced {
		err = spliceCopy(dst, src, moved)
	} else {
		err = bufferCopy(dst, src, moved, bufSize)
	}
	if err != nil {
		if r.shut.Load() && (errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrClosedPipe)) {
			return
		}
		r.mu.Lock()
		failed := r.err != nil
		r.mu.Unlock()
		if !failed {
			r.fail(err)
		}
		return
	}
	// EOF: pass the half-close on, and let the other direction go on. A
	// side that cannot half-close can only be closed whole.
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
		return
	}
	if c, ok := dst.(io.Closer); ok {
		r.shut.Store(true)
		c.Close()
	}
}

const defaultBuffer = 256 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, defaultBuffer); return &b }}

// bufferCopy copies through a user-space buffer. It returns nil at EOF.
func bufferCopy(dst io.Writer, src io.Reader, moved func(int), size int) error {
	var buf []byte
	if size <= 0 || size == defaultBuffer {
		bp := bufPool.Get().(*[]byte)
		defer bufPool.Put(bp)
		buf = *bp
	} else {
		buf = make([]byte, size)
	}
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return werr
			}
			moved(n)
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}
