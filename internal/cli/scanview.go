package cli

import (
	"io"
	"os"

	"github.com/netkit-dev/netkit/scan"
)

func readPolicy(path string) (*scan.Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return scan.ReadPolicy(f, path)
}

// writeFile writes a file through fn; "-" is stdout.
func writeFile(a *app, path string, fn func(io.Writer) error) error {
	if path == "-" {
		return fn(a.io.Out)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func portView(p scan.PortReport) scanPort {
	v := scanPort{Port: p.Port, Proto: "tcp", State: p.State.String(), Service: p.Service, Banner: p.Banner, Reason: p.Reason}
	if p.State == scan.Open {
		v.RTTms = ms(p.RTT)
	}
	return v
}

func newScanView(r *scan.Report, ports int, sum scan.Summary, diffs []scan.Difference) *scanReport {
	v := &scanReport{Ports: ports, Open: sum.Open, Closed: sum.Closed, Filtered: sum.Filtered, LocalErrors: sum.LocalErrors,
		Attempts: sum.Attempts, Seconds: sum.Elapsed.Seconds()}
	for _, h := range r.Hosts {
		t := &scanTarget{Address: h.Addr.String(), Closed: h.Closed, Filtered: h.Filtered, Ports: []scanPort{}}
		for _, p := range h.Ports {
			t.Ports = append(t.Ports, portView(p))
		}
		v.Targets = append(v.Targets, t)
	}
	for _, d := range diffs {
		v.Differences = append(v.Differences, d.String())
	}
	return v
}
