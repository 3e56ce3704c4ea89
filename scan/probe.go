package scan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/netkit-dev/netkit/endpoint"
)

// HostPorts is one host and a list of ports, as netcat's zero-I/O check
// takes them: tcp://HOST:20-25,80.
type HostPorts struct {
	Scheme endpoint.Scheme // tcp, tcp4 or tcp6
	Host   string
	Ports  []uint16 // ascending, each once
}

// Endpoints returns an endpoint for each port.
func (h HostPorts) Endpoints() []endpoint.Endpoint {
	out := make([]endpoint.Endpoint, len(h.Ports))
	for i, p := range h.Ports {
		out[i] = endpoint.Endpoint{Scheme: h.Scheme, Host: h.Host, Port: p}
	}
	return out
}

// ParseHostPorts reads [tcp|tcp4|tcp6://]HOST:PORTS, where PORTS is a list
// as ParsePorts reads it. Errors are *endpoint.ParseError.
func ParseHostPorts(s string) (HostPorts, error) {
	bad := func(what, rule string) (HostPorts, error) {
		return HostPorts{}, &endpoint.ParseError{Input: s, What: what, Rule: rule}
	}
	rest := s
	scheme := endpoint.TCP
	if sch, r, ok := strings.Cut(s, "://"); ok {
		if sch != "tcp" && sch != "tcp4" && sch != "tcp6" {
			return bad(fmt.Sprintf("scheme %q", sch), "zero-I/O checks (-z) are for tcp, tcp4 and tcp6")
		}
		scheme, rest = endpoint.Scheme(sch), r
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 || !strings.HasSuffix(rest[:i], "]") && strings.Contains(rest[:i], ":") {
		// Let the endpoint parser explain (missing port, brackets).
		_, err := endpoint.Parse(string(scheme) + "://" + rest)
		if err == nil {
			err = &endpoint.ParseError{Input: s, What: "missing port", Rule: "write HOST:PORTS"}
		}
		return HostPorts{}, err
	}
	host, list := rest[:i], rest[i+1:]
	if list == "-" || list == "" {
		return bad(fmt.Sprintf("port list %q", list), "name the ports, as 80, 20-25 or 22,80,443")
	}
	ports, err := ParsePorts(list)
	if err != nil {
		what, rule, _ := strings.Cut(strings.Replace(err.Error(), " in "+strconv.Quote(list), "", 1), ": ")
		return bad(what, rule)
	}
	e, err := endpoint.Parse(string(scheme) + "://" + host + ":1")
	if err != nil {
		rule := err.Error()
		if pe, ok := errors.AsType[*endpoint.ParseError](err); ok {
			rule = pe.Rule
		}
		return bad("invalid host "+strconv.Quote(host), rule)
	}
	return HostPorts{Scheme: scheme, Host: e.Host, Ports: ports}, nil
}

// ProbeResult is the outcome of one zero-I/O check.
type ProbeResult struct {
	Endpoint endpoint.Endpoint
	// State is Open, Closed (refused), Filtered (no answer within the
	// dialer's timeout) or LocalError (any other failure, in Err).
	State State
	Err   error
}

// Probe connects to each port of h and closes each connection at once,
// sending nothing (netcat's -z), with up to parallel dials at once (64 if
// zero). Unlike Scan it dials through d, so host names, a source address
// and TLS apply, and it runs anywhere. Results are in the order of
// h.Ports.
func Probe(ctx context.Context, d *endpoint.Dialer, h HostPorts, parallel int) []ProbeResult {
	if parallel <= 0 {
		parallel = 64
	}
	if d == nil {
		d = &endpoint.Dialer{}
	}
	eps := h.Endpoints()
	results := make([]ProbeResult, len(eps))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, e := range eps {
		results[i].Endpoint = e
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := d.Dial(ctx, e)
			r := &results[i]
			var ne net.Error
			switch {
			case err == nil:
				c.Close()
				r.State = Open
			case errors.Is(err, syscall.ECONNREFUSED):
				r.State, r.Err = Closed, err
			case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
				r.State, r.Err = Filtered, err
			default:
				r.State, r.Err = LocalError, err
			}
		})
	}
	wg.Wait()
	return results
}
