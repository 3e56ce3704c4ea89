package scan

import (
	"context"
	"errors"
	"net/netip"
	"time"
)

// Job is a whole scan as netkit scan runs it: what to scan, how, and
// what to do with the open ports found.
type Job struct {
	// Targets are addresses, host names, prefixes and ranges, as Targets
	// reads them; Exclude leaves some out.
	Targets, Exclude []string
	// Ports are the ports scanned on each target.
	Ports []uint16
	// Policy, if set, gives the targets and ports instead, and the
	// outcome is checked against it.
	Policy *Policy
	// Config is how the probes run; its OnResult is Run's own.
	Config Config
	// Service names a port's service ("ssh"); nil names none.
	Service func(port uint16) string
	// Banners reads what open ports say first (64 at once, 2 s each).
	Banners bool
	// OnPort, if set, is told of each port that is not closed as its
	// result arrives, in no particular order.
	OnPort func(addr netip.Addr, p PortReport)
	// OnStart, if set, is told how many probes the scan will make once
	// the targets are known; OnResult of every result, closed ports too
	// (for progress).
	OnStart  func(probes int)
	OnResult func(Result)
}

// TargetError is a target (or exclusion) that could not be read or
// resolved, or a list of targets that excludes every one.
type TargetError struct{ Err error }

func (e *TargetError) Error() string { return e.Err.Error() }
func (e *TargetError) Unwrap() error { return e.Err }

// Outcome is what Run found.
type Outcome struct {
	Report      *Report
	Summary     Summary
	Ports       int          // ports scanned on each target
	Differences []Difference // from the Policy, if any
}

// Run resolves the targets, scans them and gathers the report. It fails
// before scanning with a *TargetError on a bad target or when no target
// is left; once the scan has started, the outcome is returned with any
// error.
func Run(ctx context.Context, j Job) (*Outcome, error) {
	addrs, ports := []netip.Addr(nil), j.Ports
	if j.Policy != nil {
		addrs, ports = j.Policy.Targets()
	} else {
		var err error
		if addrs, err = Targets(ctx, nil, j.Targets, j.Exclude); err != nil {
			return nil, &TargetError{err}
		}
		if len(addrs) == 0 {
			return nil, &TargetError{errors.New("no target left after the exclusions")}
		}
	}
	if j.OnStart != nil {
		j.OnStart(len(addrs) * len(ports))
	}
	report := NewReport(addrs, j.Service)
	if j.Policy != nil {
		report.Track()
	}
	cfg := j.Config
	cfg.OnResult = func(r Result) {
		if j.OnResult != nil {
			j.OnResult(r)
		}
		if p := report.Add(r); p != nil && j.OnPort != nil {
			j.OnPort(r.Addr, *p)
		}
	}
	sum, err := Scan(ctx, cfg, addrs, ports)
	if err != nil && sum.Attempts == 0 {
		return nil, err
	}
	report.Sort()
	if j.Banners {
		report.GrabBanners(ctx, 64, 2*time.Second)
	}
	out := &Outcome{Report: report, Summary: sum, Ports: len(ports)}
	if j.Policy != nil {
		out.Differences = j.Policy.Check(report.State)
	}
	return out, err
}

// PortDoc is a port as netkit scan --json prints it.
type PortDoc struct {
	Port    uint16  `json:"port"`
	Proto   string  `json:"proto"`
	State   string  `json:"state"`
	Service string  `json:"service,omitempty"`
	Banner  string  `json:"banner,omitempty"`
	Reason  string  `json:"reason,omitempty"`
	RTTms   float64 `json:"rtt_ms,omitempty"`
	Address string  `json:"address,omitempty"` // in streamed lines
}

// HostDoc is a target as netkit scan --json prints it.
type HostDoc struct {
	Address  string    `json:"address"`
	Ports    []PortDoc `json:"ports"`
	Closed   int       `json:"closed"`
	Filtered int       `json:"filtered"`
}

// Document is an Outcome as netkit scan --json prints it.
type Document struct {
	Targets     []*HostDoc `json:"targets"`
	Ports       int        `json:"ports_per_target"`
	Open        int        `json:"open"`
	Closed      int        `json:"closed"`
	Filtered    int        `json:"filtered"`
	LocalErrors int        `json:"local_errors"`
	Attempts    int        `json:"attempts"`
	Seconds     float64    `json:"seconds"`
	Differences []string   `json:"differences,omitempty"`
}

// Doc describes a port for JSON.
func (p PortReport) Doc() PortDoc {
	d := PortDoc{Port: p.Port, Proto: "tcp", State: p.State.String(), Service: p.Service, Banner: p.Banner, Reason: p.Reason}
	if p.State == Open {
		d.RTTms = float64(p.RTT.Microseconds()) / 1000
	}
	return d
}

// Document describes the outcome for JSON.
func (o *Outcome) Document() *Document {
	s := o.Summary
	d := &Document{Ports: o.Ports, Open: s.Open, Closed: s.Closed, Filtered: s.Filtered, LocalErrors: s.LocalErrors,
		Attempts: s.Attempts, Seconds: s.Elapsed.Seconds(), Targets: []*HostDoc{}}
	for _, h := range o.Report.Hosts {
		t := &HostDoc{Address: h.Addr.String(), Closed: h.Closed, Filtered: h.Filtered, Ports: []PortDoc{}}
		for _, p := range h.Ports {
			t.Ports = append(t.Ports, p.Doc())
		}
		d.Targets = append(d.Targets, t)
	}
	for _, diff := range o.Differences {
		d.Differences = append(d.Differences, diff.String())
	}
	return d
}
