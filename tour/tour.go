// Package tour is `netkit tour`: the TCP/IP stack as the network
// programming tutorials teach it, layer by layer, each idea shown live by
// netkit's own packages on loopback.
//
// A [Step] names the tutorials' idea it shows, the netkit commands that do
// the same thing alone (with any files they need), and runs: it starts
// what it needs on 127.0.0.1 (ephemeral ports, except the tutorials' port
// 12345 when it is free), narrates to a writer, and stops everything it
// started before it returns. [Steps] lists them in layer order, from the
// interfaces up to the applications; [Run] runs some of them and reports
// each. A new capability adds its step in a file of its own and one line
// in the registry.
package tour

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/inetd"
	"github.com/netkit-dev/netkit/internal/textui"
)

// Step is one stop of the tour.
type Step interface {
	// Name is short and unique: "addresses", "dns".
	Name() string
	// Layer is where the step sits in the layer cake: "link", "network",
	// "transport", "application" or "servers".
	Layer() string
	// Idea is the tutorials' idea the step shows, in one line.
	Idea() string
	// Commands are netkit command lines that do what the step did, to be
	// pasted into a shell, in order: a trailing & starts a server in the
	// background (on the tutorials' port 12345), and a trailing comment
	// "# exits N" says that the command fails on purpose, with status N;
	// a trailing "# needs root" that it needs root (or CAP_NET_RAW).
	Commands() []string
	// Files are the files the commands read, by name.
	Files() map[string]string
	// Run shows the idea live, narrating to w. It stops all it started
	// before it returns.
	Run(ctx context.Context, w io.Writer, e *Env) error
}

// Env is what a step gets from the tour.
type Env struct {
	// Style colours the narration (off by default).
	Style textui.Style
}

// Steps returns every step, in layer order.
func Steps() []Step {
	return []Step{
		interfaces{}, layers{}, packets{}, addresses{}, ipv6{}, routing{},
		ports{}, thankYou{}, datagrams{}, lossy{}, eggs{}, portScan{}, gatewayStep{}, engines{},
		dnsStep{}, httpStep{}, webAPI{}, mailStep{}, remoteStep{}, snmpStep{},
	}
}

// Find returns the step named name, or the one at position n (from 1) when
// name is a number.
func Find(name string) (Step, error) {
	steps := Steps()
	var n int
	if _, err := fmt.Sscanf(name, "%d", &n); err == nil && fmt.Sprint(n) == name {
		if n < 1 || n > len(steps) {
			return nil, &NoStepError{Name: name, Rule: fmt.Sprintf("the steps are 1 to %d", len(steps))}
		}
		return steps[n-1], nil
	}
	var names []string
	for _, s := range steps {
		if s.Name() == name {
			return s, nil
		}
		names = append(names, s.Name())
	}
	return nil, &NoStepError{Name: name, Rule: "the steps are " + strings.Join(names, ", ")}
}

// NoStepError is a step that Find does not know.
type NoStepError struct {
	Name string
	Rule string // what the steps are
}

func (e *NoStepError) Error() string {
	if _, err := strconv.Atoi(e.Name); err == nil {
		return fmt.Sprintf("tour: no step %s: %s", e.Name, e.Rule)
	}
	return fmt.Sprintf("tour: no step %q: %s", e.Name, e.Rule)
}

// Result is what running one step came to.
type Result struct {
	Name     string        `json:"name"`
	Layer    string        `json:"layer"`
	Idea     string        `json:"idea"`
	Commands []string      `json:"commands"`
	Output   string        `json:"result"`
	Duration time.Duration `json:"duration_ns"`
	OK       bool          `json:"ok"`
	Error    string        `json:"error,omitempty"`
}

// RunStep runs one step with a time limit of its own (10s), capturing
// its narration.
func RunStep(ctx context.Context, s Step, e *Env) Result {
	if e == nil {
		e = &Env{}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var out strings.Builder
	start := time.Now()
	err := s.Run(ctx, &out, e)
	r := Result{Name: s.Name(), Layer: s.Layer(), Idea: s.Idea(), Commands: s.Commands(),
		Output: out.String(), Duration: time.Since(start), OK: err == nil}
	if r.Commands == nil {
		r.Commands = []string{}
	}
	if err != nil {
		r.Error = err.Error()
	}
	return r
}

// TutorialPort is the port of the tutorials' thank-you server.
const TutorialPort = inetd.TutorialPort

// listenTutorial listens on 127.0.0.1:12345, or on a free port when that
// one is taken, and says which.
func listenTutorial(w io.Writer, network string) (net.Listener, net.PacketConn, error) {
	addr := fmt.Sprintf("127.0.0.1:%d", TutorialPort)
	if network == "udp" {
		pc, err := net.ListenPacket("udp", addr)
		if err == nil {
			return nil, pc, nil
		}
		fmt.Fprintf(w, "(port %d/udp is taken on this host, so this step uses a free one)\n", TutorialPort)
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		return nil, pc, err
	}
	l, err := net.Listen("tcp", addr)
	if err == nil {
		return l, nil, nil
	}
	fmt.Fprintf(w, "(port %d/tcp is taken on this host, so this step uses a free one)\n", TutorialPort)
	l, err = net.Listen("tcp", "127.0.0.1:0")
	return l, nil, err
}

// say writes a line of narration.
func say(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, format+"\n", args...)
}
