package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/netkit-dev/netkit/internal/fieldlines"
	"github.com/netkit-dev/netkit/scan"
	"github.com/netkit-dev/netkit/services"
	"github.com/spf13/cobra"
)

type scanOptions struct {
	ports       string
	top         int
	exclude     []string
	rate        float64
	timeout     time.Duration
	retries     int
	concurrency int
	banner      bool
	stream      bool
	grepable    string
	expect      string
}

func newScanCmd(a *app) *cobra.Command {
	var o scanOptions
	cmd := &cobra.Command{
		Use:   "scan TARGET... [-p PORTS]",
		Short: "Which TCP ports of which hosts accept connections (connect scan)",
		Long: `Scan TCP ports with full connects, thousands in flight at once on epoll.
Each port ends open (a connection was made), closed (refused), filtered (no
answer within --timeout, after --retries), or as a local error (this host
ran out of file descriptors or ports): those are reported apart and never
counted as closed.

TARGETs are addresses, host names, prefixes (192.0.2.0/28) and ranges
(192.0.2.1-192.0.2.9), IPv6 too; --exclude leaves some out. PORTS are lists
and ranges: -p 22,80,8000-8100; -p- scans all 65,535; --top N takes the N
most common (the default is --top 100).

--timeout here is the wait for one connect. Output: a table of the open
(and few filtered) ports per host with service names; --json a document;
--stream one JSON line per port that is not closed, as results arrive;
-oG FILE nmap's grepable format. --expect FILE checks a firewall policy:
lines of "TARGET PORT STATE" (open; closed, meaning not open; or filtered),
and exits 1 with the differences.

Scan only hosts you are allowed to scan.`,
		Example: `  netkit scan 127.0.0.1
  netkit scan 127.0.0.1 -p-
  netkit scan 192.0.2.0/28 --exclude 192.0.2.1 -p 22,80,443 --banner
  netkit scan ::1 --top 20 --json
  netkit scan --expect policy.txt`,
		GroupID: groupTransport,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return runScan(ctx, a, o, args)
		}),
	}
	f := cmd.Flags()
	f.StringVarP(&o.ports, "ports", "p", "", "ports: 22,80,8000-8100, or - for all")
	f.IntVar(&o.top, "top", 0, "scan the N most common ports (default 100 when -p is not given)")
	f.StringArrayVar(&o.exclude, "exclude", nil, "leave out these addresses, prefixes or ranges (repeatable)")
	f.Float64Var(&o.rate, "rate", 0, "at most this many connection attempts per second (0: no cap)")
	f.DurationVar(&o.timeout, "timeout", time.Second, "how long one connect waits for an answer")
	f.IntVar(&o.retries, "retries", 1, "attempts more for ports that did not answer")
	f.IntVar(&o.concurrency, "concurrency", 4096, "most attempts in flight (it adapts below this)")
	f.BoolVar(&o.banner, "banner", false, "read what open ports say first (HEAD / to HTTP ports)")
	f.BoolVar(&o.stream, "stream", false, "print each port that is not closed as a JSON line as it is found")
	f.StringVarP(&o.grepable, "grepable", "G", "", "also write nmap's grepable format to `FILE` (-oG)")
	f.StringVar(&o.expect, "expect", "", "check the ports of this policy `FILE`; exit 1 on a difference")
	return cmd
}

// scanPort is one port in the output.
type scanPort struct {
	Port    uint16  `json:"port"`
	Proto   string  `json:"proto"`
	State   string  `json:"state"`
	Service string  `json:"service,omitempty"`
	Banner  string  `json:"banner,omitempty"`
	Reason  string  `json:"reason,omitempty"`
	RTTms   float64 `json:"rtt_ms,omitempty"`
	Address string  `json:"address,omitempty"` // in --stream lines
}

type scanTarget struct {
	Address  string     `json:"address"`
	Ports    []scanPort `json:"ports"`
	Closed   int        `json:"closed"`
	Filtered int        `json:"filtered"`
}

type scanReport struct {
	Targets     []*scanTarget `json:"targets"`
	Ports       int           `json:"ports_per_target"`
	Open        int           `json:"open"`
	Closed      int           `json:"closed"`
	Filtered    int           `json:"filtered"`
	LocalErrors int           `json:"local_errors"`
	Attempts    int           `json:"attempts"`
	Seconds     float64       `json:"seconds"`
	Differences []string      `json:"differences,omitempty"`
}

func (r *scanReport) writeHuman(w io.Writer, st style) error {
	for _, t := range r.Targets {
		var shown []scanPort
		for _, p := range t.Ports {
			if p.State == "open" || p.State == "error" || p.State == "filtered" && t.Filtered <= 20 {
				shown = append(shown, p)
			}
		}
		line := fmt.Sprintf("%s: %d open, %d closed, %d filtered", t.Address, len(t.Ports)-t.Filtered-countState(t.Ports, "error"), t.Closed, t.Filtered)
		fmt.Fprintln(w, st.bold(line))
		if len(shown) == 0 {
			continue
		}
		tb := newTable("PORT", "STATE", "SERVICE", "BANNER").alignRight(0)
		for _, p := range shown {
			extra := p.Banner
			if p.Reason != "" && p.State != "open" {
				extra = p.Reason
			}
			tb.add(fmt.Sprintf("%d/%s", p.Port, p.Proto), p.State, p.Service, extra)
		}
		if err := tb.write(w, st); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "%d host%s, %d port%s each, in %.2f s: %d open, %d closed, %d filtered",
		len(r.Targets), plural(len(r.Targets)), r.Ports, plural(r.Ports), r.Seconds, r.Open, r.Closed, r.Filtered)
	if r.LocalErrors > 0 {
		fmt.Fprintf(w, ", %d not probed (local errors)", r.LocalErrors)
	}
	fmt.Fprintln(w)
	for _, d := range r.Differences {
		fmt.Fprintln(w, st.red(d))
	}
	return nil
}

func countState(ps []scanPort, state string) int {
	n := 0
	for _, p := range ps {
		if p.State == state {
			n++
		}
	}
	return n
}

// expectation is one line of an --expect file.
type expectation struct {
	line  int
	addr  netip.Addr
	port  uint16
	state string
}

func runScan(ctx context.Context, a *app, o scanOptions, args []string) error {
	switch {
	case o.timeout <= 0:
		return usageError("invalid --timeout %s: it must be positive", o.timeout)
	case o.retries < 0:
		return usageError("invalid --retries %d: it may not be negative", o.retries)
	case o.rate < 0:
		return usageError("invalid --rate %g: it may not be negative", o.rate)
	case o.concurrency <= 0:
		return usageError("invalid --concurrency %d: it must be positive", o.concurrency)
	case o.top < 0:
		return usageError("invalid --top %d: it may not be negative", o.top)
	case o.ports != "" && o.top > 0:
		return usageError("-p and --top exclude each other")
	case o.expect != "" && (len(args) > 0 || o.ports != "" || o.top > 0):
		return usageError("--expect takes its targets and ports from the file; give no TARGET, -p or --top")
	case o.expect == "" && len(args) == 0:
		return usageError("netkit scan needs at least one TARGET (or --expect FILE)")
	}
	table := services.Default()
	var expects []expectation
	var addrs []netip.Addr
	var ports []uint16
	if o.expect != "" {
		var err error
		expects, addrs, ports, err = readExpect(o.expect)
		if err != nil {
			return inputError(err)
		}
	} else {
		var err error
		switch {
		case o.ports != "":
			ports, err = scan.ParsePorts(o.ports)
			if err != nil {
				return inputError(fmt.Errorf("-p: %w", err))
			}
		default:
			n := o.top
			if n == 0 {
				n = 100
			}
			ports = table.Top(n, "tcp")
		}
		addrs, err = scan.Targets(ctx, nil, args, o.exclude)
		if err != nil {
			return inputError(err)
		}
		if len(addrs) == 0 {
			return inputError(fmt.Errorf("no target left after --exclude"))
		}
	}

	report := &scanReport{Ports: len(ports)}
	byAddr := make(map[netip.Addr]*scanTarget, len(addrs))
	for _, ad := range addrs {
		t := &scanTarget{Address: ad.String()}
		byAddr[ad] = t
		report.Targets = append(report.Targets, t)
	}
	states := map[netip.AddrPort]scan.State{}
	bar := a.newProgress("scan", int64(len(addrs)*len(ports)))
	bar.unit = "ports"
	var mu sync.Mutex
	cfg := scan.Config{
		Concurrency: o.concurrency, Rate: o.rate, Timeout: o.timeout, Retries: o.retries, Shuffle: true,
		OnResult: func(r scan.Result) {
			bar.Add(1)
			mu.Lock()
			defer mu.Unlock()
			if expects != nil {
				states[netip.AddrPortFrom(r.Addr, r.Port)] = r.State
			}
			t := byAddr[r.Addr]
			if r.State == scan.Closed {
				t.Closed++
				return
			}
			if r.State == scan.Filtered {
				t.Filtered++
			}
			p := scanPort{Port: r.Port, Proto: "tcp", State: r.State.String(), Service: table.Name(r.Port, "tcp"), Reason: r.Reason}
			if r.State == scan.Open {
				p.RTTms = float64(r.RTT.Microseconds()) / 1000
			}
			t.Ports = append(t.Ports, p)
			if o.stream {
				p.Address = t.Address
				writeJSONLine(a.io.Out, p)
			}
		},
	}
	if o.retries == 0 {
		cfg.Retries = -1
	}
	sum, err := scan.Scan(ctx, cfg, addrs, ports)
	bar.Finish()
	if err != nil && sum.Attempts == 0 {
		return err
	}
	report.Open, report.Closed, report.Filtered, report.LocalErrors = sum.Open, sum.Closed, sum.Filtered, sum.LocalErrors
	report.Attempts, report.Seconds = sum.Attempts, sum.Elapsed.Seconds()
	for _, t := range report.Targets {
		slices.SortFunc(t.Ports, func(x, y scanPort) int { return int(x.Port) - int(y.Port) })
	}
	if o.banner {
		grabBanners(ctx, report, table)
	}
	for _, e := range expects {
		got := states[netip.AddrPortFrom(e.addr, e.port)]
		ok := got.String() == e.state || e.state == "closed" && (got == scan.Closed || got == scan.Filtered)
		if !ok {
			report.Differences = append(report.Differences, fmt.Sprintf("%s:%d: %s port %d/tcp: expected %s, found %s", o.expect, e.line, e.addr, e.port, e.state, got))
		}
	}
	if o.grepable != "" {
		if err := writeGrepable(o.grepable, report, sum); err != nil {
			return err
		}
	}
	if !o.stream || a.json {
		if o.stream {
			// --stream --json: the lines are out; end with the summary line.
			report.Targets = nil
			writeJSONLine(a.io.Out, report)
		} else if err := a.render(report); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.io.Err, "scanned %d host%s, %d ports each, in %.2f s: %d open, %d closed, %d filtered\n",
			len(report.Targets), plural(len(report.Targets)), report.Ports, report.Seconds, report.Open, report.Closed, report.Filtered)
	}
	if err != nil {
		return err
	}
	if report.LocalErrors > 0 {
		fmt.Fprintf(a.io.Err, "netkit: %d port%s could not be probed because of local errors (see the reasons above); they are not counted as closed\n", report.LocalErrors, plural(report.LocalErrors))
		return errSilentFailure
	}
	if len(report.Differences) > 0 {
		return errSilentFailure
	}
	return nil
}

// grabBanners reads the banners of every open port.
func grabBanners(ctx context.Context, r *scanReport, table *services.Table) {
	var reqs []scan.BannerRequest
	var where []*scanPort
	for _, t := range r.Targets {
		addr := netip.MustParseAddr(t.Address)
		for i := range t.Ports {
			p := &t.Ports[i]
			if p.State != "open" {
				continue
			}
			http := strings.HasPrefix(p.Service, "http") && p.Service != "https" && p.Service != "https-alt"
			reqs = append(reqs, scan.BannerRequest{Addr: netip.AddrPortFrom(addr, p.Port), HTTP: http})
			where = append(where, p)
		}
	}
	for i, b := range scan.Banners(ctx, reqs, 64, 2*time.Second) {
		where[i].Banner = b
	}
}

// readExpect reads a policy file: "TARGET PORT STATE" per line, # comments.
func readExpect(path string) ([]expectation, []netip.Addr, []uint16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--expect: %w", err)
	}
	defer f.Close()
	var out []expectation
	var addrs []netip.Addr
	seenAddr := map[netip.Addr]bool{}
	seenPort := map[uint16]bool{}
	var ports []uint16
	err = fieldlines.Each(f, path, func(n int, fs []string) error {
		bad := func(what string) error {
			return fmt.Errorf("%s; lines are TARGET PORT STATE, such as \"192.0.2.1 22 open\" (STATE: open, closed or filtered)", what)
		}
		if len(fs) != 3 {
			return bad(fmt.Sprintf("%d fields", len(fs)))
		}
		addr, err := netip.ParseAddr(fs[0])
		if err != nil {
			return bad(fmt.Sprintf("%q is not an IP address", fs[0]))
		}
		p, err := strconv.ParseUint(strings.TrimSuffix(fs[1], "/tcp"), 10, 16)
		if err != nil || p == 0 {
			return bad(fmt.Sprintf("%q is not a TCP port 1-65535", fs[1]))
		}
		st := strings.ToLower(fs[2])
		if st != "open" && st != "closed" && st != "filtered" {
			return bad(fmt.Sprintf("state %q", fs[2]))
		}
		out = append(out, expectation{n, addr, uint16(p), st})
		if !seenAddr[addr] {
			seenAddr[addr] = true
			addrs = append(addrs, addr)
		}
		if !seenPort[uint16(p)] {
			seenPort[uint16(p)] = true
			ports = append(ports, uint16(p))
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--expect %w", err)
	}
	if len(out) == 0 {
		return nil, nil, nil, fmt.Errorf("--expect %s: no expectations in it", path)
	}
	return out, addrs, ports, nil
}

// writeGrepable writes nmap's grepable output (-oG).
func writeGrepable(path string, r *scanReport, sum scan.Summary) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("-G %s: %w", path, err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "# netkit %s as: %s\n", buildVersion().Version, strings.Join(os.Args, " "))
	clean := strings.NewReplacer("/", "|", ",", ";", "\t", " ")
	for _, t := range r.Targets {
		fmt.Fprintf(w, "Host: %s ()\tStatus: Up\n", t.Address)
		var items []string
		for _, p := range t.Ports {
			items = append(items, fmt.Sprintf("%d/%s/%s//%s//%s/", p.Port, p.State, p.Proto, clean.Replace(p.Service), clean.Replace(p.Banner)))
		}
		fmt.Fprintf(w, "Host: %s ()\tPorts: %s\tIgnored State: closed (%d)\n", t.Address, strings.Join(items, ", "), t.Closed)
	}
	fmt.Fprintf(w, "# netkit done at %s -- %d IP address%s scanned in %.2f seconds\n",
		time.Now().Format(time.ANSIC), len(r.Targets), map[bool]string{true: "", false: "es"}[len(r.Targets) == 1], sum.Elapsed.Seconds())
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
