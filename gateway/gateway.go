package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Options tune a running gateway. The zero value works.
type Options struct {
	// Logger logs flows turned away (always, with the rule that decided),
	// flows matched by a rule with log = true, reloads and failures. If
	// nil, nothing is logged.
	Logger *slog.Logger
	// Now is the clock for rules' time windows. If nil, time.Now.
	Now func() time.Time
	// NoSplice copies TCP bytes through user space instead of splice(2).
	NoSplice bool
}

// ErrClosed is returned by Serve and Reload once the gateway has stopped.
var ErrClosed = errors.New("gateway: closed")

// Gateway is a running configuration: its listeners, its rules and its
// flow table. Make one with New, which binds every listener, then Serve.
type Gateway struct {
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	cfg     *Config
	fwds    map[string]*forward // by forwardKey
	serving context.Context     // set by Serve
	closed  bool
	loaded  time.Time
	reloads int

	rules atomic.Pointer[Ruleset]
	flows flowTable
	stats counters

	wg       sync.WaitGroup // accept loops, readers, checkers
	denyLog  logLimiter
	stopOnce sync.Once
	stop     chan struct{}
}

type counters struct {
	opened, closed, denied, rejected, limited, dialFailed, reloadClosed, dropped atomic.Uint64
}

// New binds every listener of cfg. Nothing is served until Serve.
func New(cfg *Config, opts Options) (*Gateway, error) {
	g := &Gateway{opts: opts, log: opts.Logger, fwds: map[string]*forward{}, stop: make(chan struct{})}
	if g.log == nil {
		g.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	g.flows.m = map[uint64]*flow{}
	fwds, err := g.bind(cfg, nil)
	if err != nil {
		return nil, err
	}
	g.fwds = fwds
	g.cfg = cfg
	g.rules.Store(NewRuleset(cfg.Rules, cfg.Default, cfg.Location()))
	g.loaded = time.Now()
	return g, nil
}

func forwardKey(f *Forward) string { return f.Proto.String() + " " + f.Listen.String() }

// bind makes the forwards of cfg, reusing the listeners of keep where a
// forward's protocol and listen address are the same. On failure it
// closes what it bound.
func (g *Gateway) bind(cfg *Config, keep map[string]*forward) (map[string]*forward, error) {
	out := map[string]*forward{}
	var fresh []*forward
	for i := range cfg.Forwards {
		spec := cfg.Forwards[i]
		key := forwardKey(&spec)
		if f, ok := keep[key]; ok {
			out[key] = f
			continue
		}
		f, err := g.listen(spec)
		if err != nil {
			for _, f := range fresh {
				f.closeSocket()
			}
			return nil, &ConfigError{Pos: spec.Pos, Msg: fmt.Sprintf("forward %s: %v", &spec, err)}
		}
		f.key = key
		out[key] = f
		fresh = append(fresh, f)
	}
	return out, nil
}

// Serve serves every forward until ctx ends or Shutdown is called, then
// closes the listeners and every flow and returns once all have ended.
func (g *Gateway) Serve(ctx context.Context) error {
	g.mu.Lock()
	if g.closed || g.serving != nil {
		g.mu.Unlock()
		return ErrClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g.serving = ctx
	for _, f := range g.fwds {
		g.start(ctx, f)
	}
	g.mu.Unlock()
	g.wg.Go(func() { g.expireLoop(ctx) })
	select {
	case <-ctx.Done():
	case <-g.stop:
	}
	g.mu.Lock()
	g.closed = true
	for _, f := range g.fwds {
		f.cancel()
	}
	g.mu.Unlock()
	cancel()
	g.wg.Wait()
	return nil
}

// Shutdown stops accepting new flows, waits for the flows open now to
// end or ctx to end, whichever is first, then closes what is left and
// returns once Serve has.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.mu.Lock()
	for _, f := range g.fwds {
		f.closeSocket()
	}
	g.mu.Unlock()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	var err error
	for g.flows.len() > 0 && err == nil {
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-t.C:
		}
	}
	g.stopOnce.Do(func() { close(g.stop) })
	g.wg.Wait()
	return err
}

func (g *Gateway) start(ctx context.Context, f *forward) {
	f.ctx, f.cancel = context.WithCancel(ctx)
	if f.proto == TCP {
		g.wg.Go(func() { f.serveTCP() })
		g.wg.Go(func() { f.checkHealth() })
	} else {
		g.wg.Go(func() { f.serveUDP() })
	}
}

// Reload swaps in cfg. Listeners that cfg keeps (same protocol and listen
// address) go on, and so do their flows that cfg's rules still allow;
// flows the new rules turn away, and the flows of forwards cfg drops, are
// closed and counted. If a new listener cannot be bound, nothing changes
// and the error says why.
func (g *Gateway) Reload(cfg *Config) (ReloadReport, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return ReloadReport{}, ErrClosed
	}
	fwds, err := g.bind(cfg, g.fwds)
	if err != nil {
		return ReloadReport{}, err
	}
	var rep ReloadReport
	for key, f := range g.fwds {
		if _, ok := fwds[key]; !ok {
			rep.Removed = append(rep.Removed, f.name())
			rep.Closed += g.flows.closeWhere(func(fl *flow) bool { return fl.fwd == f })
			f.closeSocket()
			if f.cancel != nil {
				f.cancel()
			}
		}
	}
	for i := range cfg.Forwards {
		spec := cfg.Forwards[i]
		f := fwds[forwardKey(&spec)]
		if _, kept := g.fwds[f.key]; kept {
			f.update(spec)
		} else {
			rep.Added = append(rep.Added, f.name())
			if g.serving != nil {
				g.start(g.serving, f)
			}
		}
	}
	rs := NewRuleset(cfg.Rules, cfg.Default, cfg.Location())
	g.rules.Store(rs)
	now := g.now()
	rep.Closed += g.flows.closeWhere(func(fl *flow) bool {
		v := rs.Match(Flow{Proto: fl.proto, Src: fl.client, Dst: fl.listen}, now)
		if v.Action != Allow {
			g.log.Info("flow closed by reload", "flow", fl.String(), "rule", ruleName(rs, v.Rule), "action", v.Action.String())
			return true
		}
		return false
	})
	g.stats.reloadClosed.Add(uint64(rep.Closed))
	rep.Kept = g.flows.len() - rep.Closed // those closed leave the table as they end
	g.fwds, g.cfg = fwds, cfg
	g.loaded = time.Now()
	g.reloads++
	slices.Sort(rep.Added)
	slices.Sort(rep.Removed)
	g.log.Info("reloaded", "file", cfg.File, "flows_kept", rep.Kept, "flows_closed", rep.Closed)
	return rep, nil
}

// ReloadReport says what a reload did.
type ReloadReport struct {
	Added   []string `json:"added,omitempty"`   // forwards that began listening
	Removed []string `json:"removed,omitempty"` // forwards that stopped
	Kept    int      `json:"flows_kept"`        // flows that go on
	Closed  int      `json:"flows_closed"`      // flows the new configuration turned away
}

func (g *Gateway) now() time.Time {
	if g.opts.Now != nil {
		return g.opts.Now()
	}
	return time.Now()
}

// decide runs the rules on a new flow, counts and logs the verdict.
func (g *Gateway) decide(fl Flow) Verdict {
	rs := g.rules.Load()
	v := rs.Match(fl, g.now())
	rs.count(v)
	switch v.Action {
	case Deny:
		g.stats.denied.Add(1)
	case Reject:
		g.stats.rejected.Add(1)
	}
	if v.Action != Allow {
		if g.denyLog.allow() {
			g.log.Warn("flow "+v.Action.past(), "flow", fl.String(), "rule", ruleName(rs, v.Rule))
		}
	} else if v.Rule >= 0 && rs.rules[v.Rule].Log {
		g.log.Info("flow allowed", "flow", fl.String(), "rule", ruleName(rs, v.Rule))
	}
	return v
}

func ruleName(rs *Ruleset, i int) string {
	if i < 0 {
		return "default"
	}
	r := &rs.rules[i]
	s := fmt.Sprintf("%d (%s)", i+1, r)
	if r.Name != "" {
		s = fmt.Sprintf("%d %q (%s)", i+1, r.Name, r)
	}
	if r.Pos.Line > 0 {
		s += " at " + r.Pos.String()
	}
	return s
}

// logLimiter lets through at most 20 log lines a second.
type logLimiter struct {
	sec, n atomic.Int64
}

func (l *logLimiter) allow() bool {
	now := time.Now().Unix()
	if old := l.sec.Load(); old != now && l.sec.CompareAndSwap(old, now) {
		l.n.Store(0)
	}
	return l.n.Add(1) <= 20
}

// sources tracks what each source address has open, for the per-source
// limits.
type sources struct {
	mu sync.Mutex
	m  map[netip.Addr]*source
}

type source struct {
	flows    int
	mappings int
	lim      *rate.Limiter
	seen     time.Time
}

// admit reports whether src may open one more flow (or UDP mapping) under
// spec's limits, and if so counts it; release undoes it.
func (s *sources) admit(spec *Forward, src netip.Addr, mapping bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[netip.Addr]*source{}
	}
	e := s.m[src]
	if e == nil {
		e = &source{}
		s.m[src] = e
	}
	e.seen = time.Now()
	if spec.MaxConnsPerSource > 0 && e.flows >= spec.MaxConnsPerSource {
		return fmt.Errorf("source %s has %d flows open, the most max_conns_per_source allows", src, e.flows)
	}
	if maxMap := cmp.Or(spec.MaxMappingsPerSource, DefaultMappingsPerSource); mapping && e.mappings >= maxMap {
		return fmt.Errorf("source %s has %d UDP mappings, the most max_mappings_per_source allows", src, e.mappings)
	}
	if spec.Rate > 0 {
		if e.lim == nil || e.lim.Limit() != rate.Limit(spec.Rate) {
			e.lim = rate.NewLimiter(rate.Limit(spec.Rate), cmp.Or(spec.Burst, max(1, int(spec.Rate))))
		}
		if !e.lim.Allow() {
			return fmt.Errorf("source %s opens flows faster than rate = %g a second", src, spec.Rate)
		}
	}
	e.flows++
	if mapping {
		e.mappings++
	}
	return nil
}

func (s *sources) release(src netip.Addr, mapping bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.m[src]
	if e == nil {
		return
	}
	e.flows--
	if mapping {
		e.mappings--
	}
}

// sweep forgets sources with nothing open that have not been seen for a
// while (their rate limiter would be full again by now).
func (s *sources) sweep(idle time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for a, e := range s.m {
		if e.flows == 0 && time.Since(e.seen) > idle {
			delete(s.m, a)
		}
	}
}

// expireLoop forgets idle UDP mappings and idle sources.
func (g *Gateway) expireLoop(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		g.mu.Lock()
		timeout := g.cfg.Timeouts.udp()
		fwds := slices.Collect(maps.Values(g.fwds))
		g.mu.Unlock()
		for _, f := range fwds {
			f.expire(timeout)
			f.srcs.sweep(10 * time.Second)
		}
	}
}

// forward is one listener and where its flows go.
type forward struct {
	g     *Gateway
	key   string
	proto Proto
	spec  atomic.Pointer[Forward]
	tgts  atomic.Pointer[[]*target]
	rr    atomic.Uint64
	srcs  sources
	ln    net.Listener
	pc    *net.UDPConn
	bound netip.AddrPort

	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	mappings map[netip.AddrPort]*mapping
}

type target struct {
	addr   netip.AddrPort
	active atomic.Int64
	down   atomic.Bool
}

func (g *Gateway) listen(spec Forward) (*forward, error) {
	f := &forward{g: g, proto: spec.Proto, cancel: func() {}}
	f.update(spec)
	ap := spec.Listen.AddrPort
	lc := net.ListenConfig{KeepAlive: -1} // see forward.dial
	if spec.Proto == TCP {
		ln, err := lc.Listen(context.Background(), "tcp", ap.String())
		if err != nil {
			return nil, err
		}
		f.ln = ln
		f.bound = ln.Addr().(*net.TCPAddr).AddrPort()
	} else {
		pc, err := lc.ListenPacket(context.Background(), "udp", ap.String())
		if err != nil {
			return nil, err
		}
		f.pc = pc.(*net.UDPConn)
		f.bound = f.pc.LocalAddr().(*net.UDPAddr).AddrPort()
		f.mappings = map[netip.AddrPort]*mapping{}
	}
	return f, nil
}

// update takes a forward's new settings, keeping the state of targets
// that stay.
func (f *forward) update(spec Forward) {
	old := map[netip.AddrPort]*target{}
	if p := f.tgts.Load(); p != nil {
		for _, t := range *p {
			old[t.addr] = t
		}
	}
	ts := make([]*target, 0, len(spec.To))
	for _, a := range spec.To {
		t := old[a.AddrPort]
		if t == nil {
			t = &target{addr: a.AddrPort}
		}
		ts = append(ts, t)
	}
	f.tgts.Store(&ts)
	f.spec.Store(&spec)
}

func (f *forward) name() string { return f.spec.Load().String() }

func (f *forward) closeSocket() {
	if f.ln != nil {
		f.ln.Close()
	}
	if f.pc != nil {
		f.pc.Close()
	}
}

// pick chooses a target: round robin or least connections over the
// targets that passed their last health check (over all of them when
// none did). It returns them in the order to try.
func (f *forward) pick() []*target {
	all := *f.tgts.Load()
	up := make([]*target, 0, len(all))
	for _, t := range all {
		if !t.down.Load() {
			up = append(up, t)
		}
	}
	if len(up) == 0 {
		up = slices.Clone(all)
	}
	if f.spec.Load().Balance == "least-conn" {
		slices.SortStableFunc(up, func(a, b *target) int { return int(a.active.Load() - b.active.Load()) })
		return up
	}
	n := int(f.rr.Add(1)-1) % len(up)
	return append(up[n:], up[:n]...)
}

// checkHealth connects to each target every health_interval.
func (f *forward) checkHealth() {
	for {
		every := f.spec.Load().HealthInterval.Duration
		wait := every
		if wait == 0 {
			wait = time.Second // look again later: a reload may turn checks on
		}
		select {
		case <-f.ctx.Done():
			return
		case <-time.After(wait):
		}
		if every == 0 {
			continue
		}
		for _, t := range *f.tgts.Load() {
			d := net.Dialer{Timeout: min(every, f.g.timeouts().connect())}
			c, err := d.DialContext(f.ctx, "tcp", t.addr.String())
			if err == nil {
				c.Close()
			}
			if was := t.down.Swap(err != nil); was != (err != nil) {
				f.g.log.Warn("health check", "forward", f.name(), "target", t.addr.String(), "up", err == nil, "err", err)
			}
		}
	}
}

func (g *Gateway) timeouts() Timeouts {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cfg.Timeouts
}
