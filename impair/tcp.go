package impair

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Toxic is one fault of a TCP proxy, as toxiproxy names them, so that
// toxiproxy's clients can drive netkit:
//
//	latency     latency, jitter (ms): each chunk waits latency ± jitter
//	bandwidth   rate (KB/s): the stream is held to that rate
//	slicer      average_size, size_variation (bytes), delay (µs): writes
//	            are cut into small pieces, delay apart
//	limit_data  bytes: the connection closes once that many have passed
//	timeout     timeout (ms): nothing passes; the connection closes after
//	            timeout (never if 0)
//	reset_peer  timeout (ms): the connection is reset (RST) after timeout
//	slow_close  delay (ms): the close is passed on that much later
//
// Stream is "upstream" (client to server) or "downstream" (the default);
// Toxicity is the chance that a connection gets it, above 0 and up to 1
// (0 is taken as 1, every connection: remove a toxic to turn it off).
type Toxic struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Stream     string         `json:"stream"`
	Toxicity   float64        `json:"toxicity"`
	Attributes map[string]any `json:"attributes"`
}

// ToxicError is a toxic that cannot be applied: which, and why.
type ToxicError struct{ Toxic, Rule string }

func (e *ToxicError) Error() string { return fmt.Sprintf("toxic %s: %s", e.Toxic, e.Rule) }

// toxicAttrs lists each type's attributes.
var toxicAttrs = map[string][]string{
	"latency":    {"latency", "jitter"},
	"bandwidth":  {"rate"},
	"slicer":     {"average_size", "size_variation", "delay"},
	"limit_data": {"bytes"},
	"timeout":    {"timeout"},
	"reset_peer": {"timeout"},
	"slow_close": {"delay"},
}

// Check fills in the defaults (a name of TYPE_STREAM, the downstream,
// toxicity 1) and checks the type, the stream and every attribute.
func (t *Toxic) Check() error {
	names, ok := toxicAttrs[t.Type]
	if !ok {
		return &ToxicError{t.Type, "unknown type: latency, bandwidth, slicer, limit_data, timeout, reset_peer or slow_close"}
	}
	switch t.Stream {
	case "":
		t.Stream = "downstream"
	case "upstream", "downstream":
	default:
		return &ToxicError{t.Type, fmt.Sprintf("stream %q: upstream or downstream", t.Stream)}
	}
	if t.Name == "" {
		t.Name = t.Type + "_" + t.Stream
	}
	if t.Toxicity < 0 || t.Toxicity > 1 {
		return &ToxicError{t.Name, "toxicity is a probability, from 0 to 1"}
	}
	if t.Toxicity == 0 {
		t.Toxicity = 1
	}
	if t.Attributes == nil {
		t.Attributes = map[string]any{}
	}
	for k, v := range t.Attributes {
		known := false
		for _, n := range names {
			known = known || n == k
		}
		if !known {
			return &ToxicError{t.Name, fmt.Sprintf("no attribute %q for %s (it takes %v)", k, t.Type, names)}
		}
		f, ok := v.(float64)
		if !ok {
			if i, isInt := v.(int); isInt {
				f, ok = float64(i), true
			}
		}
		if !ok || f < 0 || f != float64(int64(f)) {
			return &ToxicError{t.Name, fmt.Sprintf("attribute %s must be a whole number, not negative", k)}
		}
		t.Attributes[k] = f
	}
	for _, n := range names {
		if _, ok := t.Attributes[n]; !ok {
			t.Attributes[n] = 0.0
		}
	}
	if t.Type == "bandwidth" && t.attr("rate") == 0 {
		return &ToxicError{t.Name, "rate must be above 0 KB/s"}
	}
	return nil
}

func (t *Toxic) attr(name string) int64 {
	f, _ := t.Attributes[name].(float64)
	return int64(f)
}

// TCPProxy relays TCP connections from Listen to Upstream through the
// toxics of each direction. Toxics can be added, changed and removed
// while connections are open: each chunk of data meets the toxics in
// force when it arrives.
type TCPProxy struct {
	Name     string `json:"name"`
	Listen   string `json:"listen"`
	Upstream string `json:"upstream"`
	Enabled  bool   `json:"enabled"`

	// Dial opens the connection upstream; nil is a net.Dialer's.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error) `json:"-"`

	mu     sync.Mutex
	toxics toxicList
	ln     net.Listener
	conns  map[*toxicConn]struct{}
}

// Toxics returns a copy of the toxics in force.
func (p *TCPProxy) Toxics() []Toxic {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Toxic(nil), p.toxics...)
}

// AddToxic checks t and adds it; a name in use is an error.
func (p *TCPProxy) AddToxic(t Toxic) (Toxic, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, err := p.toxics.add(t, (*Toxic).Check)
	if err == nil {
		p.changed()
	}
	return t, err
}

// UpdateToxic changes the attributes (and, if set, the toxicity) of the
// toxic called name.
func (p *TCPProxy) UpdateToxic(name string, toxicity *float64, attrs map[string]any) (Toxic, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, err := p.toxics.update(name, toxicity, attrs, (*Toxic).Check)
	if err == nil {
		p.changed()
	}
	return t, err
}

var errNoToxic = errors.New("toxic not found")

// RemoveToxic removes the toxic called name.
func (p *TCPProxy) RemoveToxic(name string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.toxics.remove(name)
	if err == nil {
		p.changed()
	}
	return err
}

// ResetToxics removes every toxic.
func (p *TCPProxy) ResetToxics() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.toxics = nil
	p.changed()
}

// changed tells the open connections; p.mu held.
func (p *TCPProxy) changed() {
	for c := range p.conns {
		c.kick()
	}
}

// Addr is the address the proxy listens on (its port once bound).
func (p *TCPProxy) Addr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.Listen
}

// State reports the proxy's settings.
func (p *TCPProxy) State() (string, string, string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.Name, p.Listen, p.Upstream, p.Enabled
}

// SetAddrs changes the addresses: the upstream at once, the listen
// address at the next Start.
func (p *TCPProxy) SetAddrs(listen, upstream string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if listen != "" {
		p.Listen = listen
	}
	if upstream != "" {
		p.Upstream = upstream
	}
}

// Start binds Listen and accepts in the background until Stop.
func (p *TCPProxy) Start() error {
	p.mu.Lock()
	addr, running := p.Listen, p.ln != nil
	p.mu.Unlock()
	if running {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ln, p.Listen, p.Enabled = ln, ln.Addr().String(), true
	p.conns = map[*toxicConn]struct{}{}
	p.mu.Unlock()
	go p.accept(ln)
	return nil
}

// Stop closes the listener and every connection.
func (p *TCPProxy) Stop() {
	p.mu.Lock()
	ln, conns := p.ln, p.conns
	p.ln, p.conns, p.Enabled = nil, nil, false
	p.mu.Unlock()
	if ln == nil {
		return
	}
	ln.Close()
	for c := range conns {
		c.close(false)
	}
}

func (p *TCPProxy) accept(ln net.Listener) {
	for {
		client, err := ln.Accept()
		if err != nil {
			return
		}
		go p.serve(client)
	}
}

func (p *TCPProxy) serve(client net.Conn) {
	dial := p.Dial
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	p.mu.Lock()
	upstream := p.Upstream
	p.mu.Unlock()
	server, err := dial(ctx, "tcp", upstream)
	cancel()
	if err != nil {
		client.Close()
		return
	}
	c := &toxicConn{p: p, client: client, server: server, kicked: make(chan struct{}, 2), ended: make(chan struct{}),
		rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())), lucky: map[string]bool{}}
	p.mu.Lock()
	if p.conns == nil {
		p.mu.Unlock()
		client.Close()
		server.Close()
		return
	}
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.pipe("upstream", client, server) }()
	go func() { defer wg.Done(); c.pipe("downstream", server, client) }()
	go c.watch()
	wg.Wait()
	c.close(false)
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// toxicConn is one relayed connection.
type toxicConn struct {
	p              *TCPProxy
	client, server net.Conn
	kicked         chan struct{}
	ended          chan struct{}
	once           sync.Once
	mu             sync.Mutex
	rng            *rand.Rand
	lucky          map[string]bool // toxicity decided once per connection and toxic
}

func (c *toxicConn) kick() {
	select {
	case c.kicked <- struct{}{}:
	default:
	}
}

// active lists the toxics of a stream that this connection gets.
func (c *toxicConn) active(stream string) []Toxic {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Toxic
	for _, t := range c.p.Toxics() {
		if t.Stream != stream {
			continue
		}
		hit, seen := c.lucky[t.Name]
		if !seen {
			hit = c.rng.Float64() < t.Toxicity
			c.lucky[t.Name] = hit
		}
		if hit {
			out = append(out, t)
		}
	}
	return out
}

// close ends both sides, with an RST when reset.
func (c *toxicConn) close(reset bool) {
	c.once.Do(func() {
		if reset {
			for _, x := range []net.Conn{c.client, c.server} {
				if tc, ok := x.(*net.TCPConn); ok {
					tc.SetLinger(0)
				}
			}
		}
		c.client.Close()
		c.server.Close()
		close(c.ended)
	})
}

// watch applies the toxics that act on time rather than on data:
// timeout and reset_peer, from when they appear.
func (c *toxicConn) watch() {
	since := map[string]time.Time{}
	for {
		now := time.Now()
		next := time.Hour
		for _, s := range []string{"upstream", "downstream"} {
			for _, t := range c.active(s) {
				if t.Type != "timeout" && t.Type != "reset_peer" {
					continue
				}
				at, ok := since[t.Name]
				if !ok {
					at, since[t.Name] = now, now
				}
				d := time.Duration(t.attr("timeout")) * time.Millisecond
				if t.Type == "timeout" && d == 0 {
					continue // hold the data, never close
				}
				if left := at.Add(d).Sub(now); left <= 0 {
					c.close(t.Type == "reset_peer")
					return
				} else {
					next = min(next, left)
				}
			}
		}
		select {
		case <-c.ended:
			return
		case <-c.kicked:
		case <-time.After(next):
		}
	}
}

// chunk is what one read brought, and when.
type chunk struct {
	b       []byte
	arrived time.Time
	err     error
}

// pipeDepth bounds the chunks read but not yet passed on (at most 32 KiB
// each): enough for a delay line of 8 MiB, beyond which TCP's own flow
// control holds the sender back.
const pipeDepth = 256

// pipe copies one direction through the toxics of its stream. A reader
// stamps each chunk with its arrival and queues it, so that latency is a
// delay line, as toxiproxy's is: every chunk leaves latency after it
// came, however many are in flight, and throughput is not cut to one
// chunk a latency.
func (c *toxicConn) pipe(stream string, src, dst net.Conn) {
	chunks := make(chan chunk, pipeDepth)
	go func() {
		defer close(chunks)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			select {
			case chunks <- chunk{buf[:n], time.Now(), err}:
			case <-c.ended:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	var passed int64
	var last time.Time // when the previous chunk was sent, for bandwidth
	for ch := range chunks {
		n, err, arrived := len(ch.b), ch.err, ch.arrived
		if n > 0 {
			chunk := ch.b
			ts := c.active(stream)
			for _, t := range ts {
				switch t.Type {
				case "timeout":
					chunk = nil // nothing passes while it lasts
				case "latency":
					d := time.Duration(t.attr("latency")) * time.Millisecond
					if j := t.attr("jitter"); j > 0 {
						d += time.Duration(c.rng.Int64N(2*j+1)-j) * time.Millisecond
					}
					c.sleep(time.Until(arrived.Add(d)))
				case "bandwidth":
					rate := float64(t.attr("rate")) * 1000 // bytes per second
					start := arrived
					if last.After(start) {
						start = last
					}
					at := start.Add(time.Duration(float64(len(chunk)) / rate * float64(time.Second)))
					c.sleep(time.Until(at))
					last = at
				case "limit_data":
					limit := t.attr("bytes")
					if passed+int64(len(chunk)) >= limit {
						if k := limit - passed; k > 0 {
							dst.Write(chunk[:k])
						}
						c.close(false)
						return
					}
				}
			}
			if len(chunk) > 0 {
				if !c.write(dst, chunk, ts) {
					c.close(false)
					return
				}
				passed += int64(len(chunk))
			}
		}
		if err != nil {
			for _, t := range c.active(stream) {
				if t.Type == "slow_close" {
					c.sleep(time.Duration(t.attr("delay")) * time.Millisecond)
				}
			}
			if errors.Is(err, io.EOF) {
				if tc, ok := dst.(*net.TCPConn); ok {
					tc.CloseWrite() // pass the half-close on
					return
				}
			}
			c.close(false)
			return
		}
	}
}

// write sends chunk, cut into slices if a slicer says so.
func (c *toxicConn) write(dst net.Conn, chunk []byte, ts []Toxic) bool {
	for _, t := range ts {
		if t.Type != "slicer" {
			continue
		}
		avg, vary := t.attr("average_size"), t.attr("size_variation")
		delay := time.Duration(t.attr("delay")) * time.Microsecond
		for len(chunk) > 0 {
			size := max(avg, 1)
			if vary > 0 {
				size += c.rng.Int64N(2*vary+1) - vary
			}
			size = min(max(size, 1), int64(len(chunk)))
			if _, err := dst.Write(chunk[:size]); err != nil {
				return false
			}
			chunk = chunk[size:]
			c.sleep(delay)
		}
		return true
	}
	_, err := dst.Write(chunk)
	return err == nil
}

// sleep waits d, or less if the connection ends.
func (c *toxicConn) sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.ended:
	}
}
