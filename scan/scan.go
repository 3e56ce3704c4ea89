// Package scan is a TCP connect scanner: which ports of which hosts accept
// a connection. It is built on non-blocking connect and epoll, a few
// thousand attempts in flight on one thread per core, rather than a
// goroutine per dial.
//
// Each attempt ends in one of four states: open (the handshake completed),
// closed (the host refused: a RST), filtered (no answer before the
// timeout, after the retries, or an ICMP unreachable), and local error:
// the scanning host itself failed to make the attempt (out of file
// descriptors, out of ephemeral ports). Local errors are retried after a
// pause and, if they persist, reported apart; they are never counted as
// closed.
//
// Concurrency adapts as TCP's congestion window does: it grows by one for
// every answer and halves on every timeout, between Config.MinConcurrency
// and Config.Concurrency. Config.Rate caps attempts per second.
//
// Scan only hosts you are allowed to scan.
package scan

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// State is the outcome of probing one port.
type State uint8

const (
	Open State = iota + 1
	Closed
	Filtered
	LocalError
)

func (s State) String() string {
	switch s {
	case Open:
		return "open"
	case Closed:
		return "closed"
	case Filtered:
		return "filtered"
	case LocalError:
		return "error"
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText makes a State read as its name in JSON.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Result is the outcome for one port of one host.
type Result struct {
	Addr  netip.Addr
	Port  uint16
	State State
	// RTT is the time from connect to the answer (open or closed).
	RTT time.Duration
	// Reason explains a filtered or local-error state: "timeout",
	// "host unreachable", "too many open files", ...
	Reason string
}

// Config tunes a scan. The zero value works.
type Config struct {
	// Concurrency caps attempts in flight, across all workers; 0 means
	// 4096, and never more than the open-file limit allows.
	Concurrency int
	// MinConcurrency is the floor timeouts cannot push it below; 0 means 16.
	MinConcurrency int
	// Rate caps attempts per second; 0 means no cap.
	Rate float64
	// Timeout is how long one attempt waits for an answer; 0 means 1s.
	Timeout time.Duration
	// Retries is how many more attempts a timed-out port gets; -1 means
	// none, 0 means the default of 1.
	Retries int
	// Workers is the number of event loops (threads); 0 means GOMAXPROCS.
	Workers int
	// Shuffle scans the ports of each host in random order, as nmap does,
	// so that no stretch of ports is hit in sequence.
	Shuffle bool
	// OnResult, if set, is called with every final result as it arrives,
	// from the workers' goroutines, one call at a time.
	OnResult func(Result)
}

func (c Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return time.Second
}

func (c Config) retries() int {
	switch {
	case c.Retries < 0:
		return 0
	case c.Retries == 0:
		return 1
	}
	return c.Retries
}

func (c Config) workers() int {
	if c.Workers > 0 {
		return c.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// Summary counts the results of a scan.
type Summary struct {
	Attempts    int           // connect attempts made, retries included
	Open        int           // ports found open
	Closed      int           // ports found closed
	Filtered    int           // ports found filtered
	LocalErrors int           // ports that could not be probed
	Retries     int           // attempts repeated after a timeout
	Elapsed     time.Duration //
	Concurrency int           // the cap in force, after the file limit
	FileLimit   uint64        // the open-file limit the scan ran under
	PeakFlight  int           // the most attempts in flight at once
}

// ErrUnsupported is returned where the scanner has no engine.
var ErrUnsupported = errors.New("scan: the connect scanner needs Linux (epoll)")

// Scan probes every port of every address. Results go to cfg.OnResult as
// they come; the Summary counts them. It stops early, returning what it
// counted with ctx's error, when ctx ends.
func Scan(ctx context.Context, cfg Config, addrs []netip.Addr, ports []uint16) (Summary, error) {
	if len(addrs) == 0 || len(ports) == 0 {
		return Summary{}, nil
	}
	for _, p := range ports {
		if p == 0 {
			return Summary{}, errors.New("scan: port 0 cannot be connected to")
		}
	}
	return run(ctx, cfg, newJobs(addrs, ports, cfg.Shuffle))
}

// jobs hands out (address, port) pairs, host by host interleaved with
// port order, without materialising the product.
type jobs struct {
	addrs []netip.Addr
	ports []uint16
	total int
}

func newJobs(addrs []netip.Addr, ports []uint16, shuffle bool) *jobs {
	ps := append([]uint16(nil), ports...)
	if shuffle {
		rand.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
	}
	return &jobs{addrs: addrs, ports: ps, total: len(addrs) * len(ps)}
}

// at returns the i-th job: all hosts for the first port, then the
// next port, so one host is not hammered while the others wait.
func (j *jobs) at(i int) (netip.Addr, uint16) {
	return j.addrs[i%len(j.addrs)], j.ports[i/len(j.addrs)]
}

// ParsePorts reads a port list: "22,80,8000-8100". Duplicates are
// dropped; the order is ascending.
func ParsePorts(s string) ([]uint16, error) {
	if s == "" {
		return nil, errors.New(`empty port list: give ports as 22,80,8000-8100, or "-" for all`)
	}
	if s == "-" {
		return AllPorts(), nil
	}
	var seen [65536]bool
	for item := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(item, "-")
		first, err1 := parsePort(lo)
		last := first
		var err2 error
		if isRange {
			if hi == "" {
				last, err2 = 65535, nil // "8000-" runs to the end, as nmap
			} else {
				last, err2 = parsePort(hi)
			}
			if lo == "" {
				first, err1 = 1, nil
			}
		}
		switch {
		case err1 != nil || err2 != nil:
			return nil, fmt.Errorf("invalid port list item %q in %q: ports are 1-65535, as 80, 20-25 or 22,80,443", item, s)
		case first == 0:
			return nil, fmt.Errorf("invalid port 0 in %q: port 0 cannot be connected to", s)
		case last < first:
			return nil, fmt.Errorf("backward range %q in %q: write ranges low-high", item, s)
		}
		for p := first; ; p++ {
			seen[p] = true
			if p == last {
				break
			}
		}
	}
	var out []uint16
	for p := 1; p < 65536; p++ {
		if seen[p] {
			out = append(out, uint16(p))
		}
	}
	return out, nil
}

func parsePort(s string) (uint16, error) {
	if s == "" || len(s) > 5 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errors.New("not a port")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > 65535 {
		return 0, errors.New("not a port")
	}
	return uint16(n), nil
}

// AllPorts returns 1-65535.
func AllPorts() []uint16 {
	out := make([]uint16, 65535)
	for i := range out {
		out[i] = uint16(i + 1)
	}
	return out
}
