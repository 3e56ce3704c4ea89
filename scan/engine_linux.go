package scan

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netkit-dev/netkit/internal/poll"

	"github.com/netkit-dev/netkit/internal/rawsock"
	"golang.org/x/sys/unix"
)

// shared is the state the workers share.
type shared struct {
	cfg      Config
	jobs     *jobs
	next     atomic.Int64 // the next job index to hand out
	attempts atomic.Int64
	start    time.Time
	emit     sync.Mutex // serialises OnResult
	flight   atomic.Int64
	peak     atomic.Int64

	mu  sync.Mutex // guards sum
	sum Summary
}

// job is one port of one host, with its attempt count.
type job struct {
	addr  netip.Addr
	port  uint16
	tries int // attempts made (timeouts)
	local int // attempts that failed on this host
}

// probe is one attempt in flight.
type probe struct {
	job
	fd       int
	start    time.Time
	deadline time.Time
	done     bool
}

func run(ctx context.Context, cfg Config, js *jobs) (Summary, error) {
	limit := raiseFileLimit()
	capN := cfg.Concurrency
	if capN <= 0 {
		capN = 4096
	}
	if room := int(limit) - 64; limit > 0 && room < capN {
		capN = max(room, 1)
	}
	cfg.Concurrency = capN
	if cfg.MinConcurrency <= 0 {
		cfg.MinConcurrency = min(16, capN)
	}
	s := &shared{cfg: cfg, jobs: js, start: time.Now()}
	n := min(cfg.workers(), capN)
	// The workers scan from the network namespace of the caller's thread
	// (a test, or a program, may have entered another one).
	ns := callerNetns()
	if ns != nil {
		defer ns.Close()
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			moved, err := enterNetns(ns)
			if err != nil {
				errs[i] = err
				return // the thread stays locked and ends with the goroutine
			}
			if !moved {
				defer runtime.UnlockOSThread()
			}
			errs[i] = s.work(ctx, capN/n+boolInt(i < capN%n), max(cfg.MinConcurrency/n, 1))
		}()
	}
	wg.Wait()
	s.sum.Elapsed = time.Since(s.start)
	s.sum.Attempts = int(s.attempts.Load())
	s.sum.Concurrency, s.sum.FileLimit, s.sum.PeakFlight = capN, limit, int(s.peak.Load())
	for _, err := range errs {
		if err != nil {
			return s.sum, err
		}
	}
	return s.sum, ctx.Err()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// callerNetns opens the network namespace of the calling thread, or
// returns nil.
func callerNetns() *os.File {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	f, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return nil
	}
	return f
}

// enterNetns moves the locked thread into the namespace ns when it is in
// another one. A moved thread must not be unlocked: it dies with its
// goroutine rather than serve others from the wrong namespace.
func enterNetns(ns *os.File) (moved bool, err error) {
	if ns == nil {
		return false, nil
	}
	var want, have unix.Stat_t
	if err := unix.Fstat(int(ns.Fd()), &want); err != nil {
		return false, nil
	}
	if err := unix.Stat("/proc/thread-self/ns/net", &have); err != nil || have.Ino == want.Ino && have.Dev == want.Dev {
		return false, nil
	}
	if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
		return true, fmt.Errorf("scan: entering the caller's network namespace: %w", err)
	}
	return true, nil
}

// raiseFileLimit lifts the soft open-file limit to the hard one and
// returns what it is now.
func raiseFileLimit() uint64 {
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) != nil {
		return 0
	}
	if rl.Cur < rl.Max {
		up := rl
		up.Cur = up.Max
		if unix.Setrlimit(unix.RLIMIT_NOFILE, &up) == nil {
			rl = up
		}
	}
	return rl.Cur
}

// worker is one event loop.
type worker struct {
	s        *shared
	poller   *poll.Poller
	inflight map[int32]*probe
	queue    []*probe // in start order, which is deadline order
	retry    []job
	cwnd     float64
	maxWnd   float64
	minWnd   float64
	backoff  time.Time         // no new attempts before this (local errors)
	zones    map[string]uint32 // IPv6 zone names and their interface indexes
}

func (s *shared) work(ctx context.Context, maxWnd, minWnd int) error {
	p, err := poll.New(512)
	if err != nil {
		return err
	}
	defer p.Close()
	w := &worker{s: s, poller: p, inflight: make(map[int32]*probe), cwnd: float64(maxWnd), maxWnd: float64(maxWnd), minWnd: float64(minWnd)}
	defer w.abandon()
	timeout := s.cfg.timeout()
	for ctx.Err() == nil {
		wait := w.fill(timeout)
		if len(w.inflight) == 0 && wait < 0 {
			return nil // no work left
		}
		var first time.Time
		if len(w.queue) > 0 {
			first = w.queue[0].deadline
		}
		events, err := w.poller.Wait(sleepFor(wait, first, time.Now()))
		if err != nil {
			return err
		}
		for _, ev := range events {
			if p := w.inflight[ev.Fd]; p != nil {
				w.answered(p)
			}
		}
		w.expire()
	}
	return nil
}

// sleepFor is how long a worker may sleep in epoll_wait: until the end of
// the pause that fill asked for (pause > 0) or the first deadline of the
// attempts in flight (first, if not zero), whichever comes first, at least
// a millisecond, and never more than 100ms, so that the context is heard.
// A full window (pause 0) is no reason to stay awake: the answers wake the
// worker.
func sleepFor(pause time.Duration, first, now time.Time) time.Duration {
	d := 100 * time.Millisecond
	if pause > 0 {
		d = min(d, pause)
	}
	if !first.IsZero() {
		d = min(d, first.Sub(now))
	}
	return max(d, time.Millisecond)
}

// fill starts attempts while the window has room. It returns how long to
// wait before trying again when it stopped for the rate or a back-off, 0
// when it stopped for the window, or -1 when there is no work left.
func (w *worker) fill(timeout time.Duration) time.Duration {
	for len(w.inflight) < int(w.cwnd) {
		if d := time.Until(w.backoff); d > 0 {
			return d
		}
		if d := w.s.rateWait(); d > 0 {
			return d
		}
		j, ok := w.take()
		if !ok {
			if len(w.inflight) > 0 {
				return 0
			}
			return -1
		}
		w.s.attempts.Add(1)
		w.start(j, timeout)
	}
	return 0
}

// rateWait says how long until the rate allows another attempt.
func (s *shared) rateWait() time.Duration {
	if s.cfg.Rate <= 0 {
		return 0
	}
	allowed := s.cfg.Rate*time.Since(s.start).Seconds() + 1
	if float64(s.attempts.Load()) < allowed {
		return 0
	}
	return time.Duration((float64(s.attempts.Load()) + 1 - allowed) / s.cfg.Rate * float64(time.Second))
}

func (w *worker) take() (job, bool) {
	if n := len(w.retry); n > 0 {
		j := w.retry[n-1]
		w.retry = w.retry[:n-1]
		return j, true
	}
	i := w.s.next.Add(1) - 1
	if i >= int64(w.s.jobs.total) {
		return job{}, false
	}
	a, p := w.s.jobs.at(int(i))
	return job{addr: a, port: p}, true
}

// start opens a socket and begins a non-blocking connect.
func (w *worker) start(j job, timeout time.Duration) {
	fam := unix.AF_INET
	if j.addr.Is6() && !j.addr.Is4In6() {
		fam = unix.AF_INET6
	}
	fd, err := rawsock.Socket(fam, unix.SOCK_STREAM)
	if err != nil {
		w.localFailure(j, err)
		return
	}
	t0 := time.Now()
	err = rawsock.Connect(fd, netip.AddrPortFrom(j.addr, j.port), w.zoneIndex(j.addr))
	if err == unix.EINPROGRESS {
		// Over loopback and other fast paths the answer is often in
		// already: a refusal then costs no epoll registration.
		if soerr, gerr := rawsock.SoError(fd); gerr == nil && soerr != 0 {
			err = unix.Errno(soerr)
		}
	}
	switch err {
	case unix.EINPROGRESS:
	case nil:
		w.finish(fd, j, Open, time.Since(t0), "")
		return
	default:
		rawsock.Close(fd)
		if st, reason, local := classify(err); !local {
			w.s.result(Result{Addr: j.addr, Port: j.port, State: st, RTT: time.Since(t0), Reason: reason})
			w.grow()
		} else {
			w.localFailure(j, err)
		}
		return
	}
	if err := w.poller.Add(fd, poll.Out); err != nil {
		unix.Close(fd)
		w.localFailure(j, err)
		return
	}
	p := &probe{job: j, fd: fd, start: t0, deadline: t0.Add(timeout)}
	w.inflight[int32(fd)] = p
	w.queue = append(w.queue, p)
	if f := w.s.flight.Add(1); f > w.s.peak.Load() {
		w.s.peak.Store(f)
	}
}

// answered reads the outcome of a connect that epoll reported.
func (w *worker) answered(p *probe) {
	w.forget(p)
	err := poll.ConnectResult(p.fd)
	if err == nil {
		w.finish(p.fd, p.job, Open, time.Since(p.start), "")
		return
	}
	rawsock.Close(p.fd)
	st, reason, local := classify(err)
	if local {
		w.localFailure(p.job, err)
		return
	}
	w.s.result(Result{Addr: p.addr, Port: p.port, State: st, RTT: time.Since(p.start), Reason: reason})
	w.grow()
}

// finish reports an open port and closes it with a RST (SO_LINGER 0), so
// no TIME_WAIT is left behind on either side.
func (w *worker) finish(fd int, j job, st State, rtt time.Duration, reason string) {
	if selfConnected(fd, j) {
		// A connect from the port to itself (TCP simultaneous open):
		// nothing listens there.
		st, reason = Closed, "self-connect"
	}
	_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	rawsock.Close(fd)
	w.s.result(Result{Addr: j.addr, Port: j.port, State: st, RTT: rtt, Reason: reason})
	w.grow()
}

func (w *worker) forget(p *probe) {
	p.done = true
	delete(w.inflight, int32(p.fd))
	w.s.flight.Add(-1)
}

// expire ends the attempts whose time is up: retried, or filtered.
func (w *worker) expire() {
	now := time.Now()
	i := 0
	for ; i < len(w.queue); i++ {
		p := w.queue[i]
		if p.done {
			continue
		}
		if now.Before(p.deadline) {
			break
		}
		w.forget(p)
		unix.Close(p.fd)
		w.shrink()
		if p.tries < w.s.cfg.retries() {
			p.tries++
			w.s.count(func(s *Summary) { s.Retries++ })
			w.retry = append(w.retry, p.job)
			continue
		}
		w.s.result(Result{Addr: p.addr, Port: p.port, State: Filtered, Reason: "no answer"})
	}
	w.queue = w.queue[i:]
	if len(w.queue) == 0 {
		w.queue = nil
	}
}

// localFailure handles an attempt the local host could not make: back off
// and try again later; after repeated failures, report it.
func (w *worker) localFailure(j job, err error) {
	j.local++
	w.cwnd = max(w.minWnd, float64(len(w.inflight)))
	if j.local <= 20 && isTransientLocal(err) {
		w.retry = append(w.retry, j)
		w.backoff = time.Now().Add(time.Duration(j.local) * 5 * time.Millisecond)
		return
	}
	w.s.result(Result{Addr: j.addr, Port: j.port, State: LocalError, Reason: errText(err)})
}

func (w *worker) grow()   { w.cwnd = min(w.maxWnd, w.cwnd+1) }
func (w *worker) shrink() { w.cwnd = max(w.minWnd, w.cwnd/2) }

// abandon closes whatever is still in flight (when the context ends).
func (w *worker) abandon() {
	for _, p := range w.inflight {
		unix.Close(p.fd)
		w.s.flight.Add(-1)
	}
	w.inflight = nil
}

func (s *shared) count(f func(*Summary)) {
	s.mu.Lock()
	f(&s.sum)
	s.mu.Unlock()
}

func (s *shared) result(r Result) {
	s.count(func(sum *Summary) {
		switch r.State {
		case Open:
			sum.Open++
		case Closed:
			sum.Closed++
		case Filtered:
			sum.Filtered++
		case LocalError:
			sum.LocalErrors++
		}
	})
	if s.cfg.OnResult != nil {
		s.emit.Lock()
		s.cfg.OnResult(r)
		s.emit.Unlock()
	}
}

// classify maps a connect error to a state. local reports that the
// scanning host, not the target, failed.
func classify(err error) (st State, reason string, local bool) {
	switch err {
	case unix.ECONNREFUSED:
		return Closed, "", false
	case unix.ETIMEDOUT:
		return Filtered, "no answer", false
	case unix.EHOSTUNREACH:
		return Filtered, "host unreachable", false
	case unix.ENETUNREACH:
		return LocalError, "no route to the network", true
	}
	return LocalError, errText(err), true
}

// isTransientLocal reports errors that pass when fewer attempts are in
// flight: file descriptors, ephemeral ports, buffers.
func isTransientLocal(err error) bool {
	switch err {
	case unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM, unix.EADDRNOTAVAIL, unix.EAGAIN:
		return true
	}
	return false
}

func errText(err error) string {
	if en, ok := err.(unix.Errno); ok {
		return en.Error()
	}
	return err.Error()
}

// zoneIndex is the interface index of an IPv6 address's zone, 0 for none.
// Each zone is looked up once per worker (a lookup reads the interface
// list from the kernel; a full scan would do it 65,535 times).
func (w *worker) zoneIndex(a netip.Addr) uint32 {
	z := a.Zone()
	if z == "" {
		return 0
	}
	idx, ok := w.zones[z]
	if !ok {
		if ifi, err := net.InterfaceByName(z); err == nil {
			idx = uint32(ifi.Index)
		}
		if w.zones == nil {
			w.zones = make(map[string]uint32)
		}
		w.zones[z] = idx
	}
	return idx
}

// selfConnected reports whether the kernel picked the destination itself
// as the source: on loopback a connect to a free port in the ephemeral
// range can meet itself and "succeed".
func selfConnected(fd int, j job) bool {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return false
	}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return sa.Port == int(j.port) && netip.AddrFrom4(sa.Addr) == j.addr.Unmap()
	case *unix.SockaddrInet6:
		return sa.Port == int(j.port) && netip.AddrFrom16(sa.Addr) == j.addr.WithZone("")
	}
	return false
}
