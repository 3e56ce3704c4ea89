package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/internal/textui"
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

type scanReport scan.Document

func (r *scanReport) writeHuman(w io.Writer, st textui.Style) error {
	for _, t := range r.Targets {
		var shown []scan.PortDoc
		for _, p := range t.Ports {
			if p.State == "open" || p.State == "error" || p.State == "filtered" && t.Filtered <= 20 {
				shown = append(shown, p)
			}
		}
		line := fmt.Sprintf("%s: %d open, %d closed, %d filtered", t.Address, len(t.Ports)-t.Filtered-countState(t.Ports, "error"), t.Closed, t.Filtered)
		fmt.Fprintln(w, st.Bold(line))
		if len(shown) == 0 {
			continue
		}
		tb := textui.NewTable("PORT", "STATE", "SERVICE", "BANNER").AlignRight(0)
		for _, p := range shown {
			extra := p.Banner
			if p.Reason != "" && p.State != "open" {
				extra = p.Reason
			}
			tb.Add(fmt.Sprintf("%d/%s", p.Port, p.Proto), p.State, p.Service, extra)
		}
		if err := tb.Write(w, st); err != nil {
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
		fmt.Fprintln(w, st.Red(d))
	}
	return nil
}

func countState(ps []scan.PortDoc, state string) int {
	n := 0
	for _, p := range ps {
		if p.State == state {
			n++
		}
	}
	return n
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
	job := scan.Job{
		Targets: args, Exclude: o.exclude, Banners: o.banner,
		Service: func(p uint16) string { return table.Name(p, "tcp") },
		Config:  scan.Config{Concurrency: o.concurrency, Rate: o.rate, Timeout: o.timeout, Retries: o.retries, Shuffle: true},
	}
	if o.retries == 0 {
		job.Config.Retries = -1
	}
	var err error
	switch {
	case o.expect != "":
		if job.Policy, err = readPolicy(o.expect); err != nil {
			return inputError(fmt.Errorf("--expect %w", err))
		}
	case o.ports != "":
		if job.Ports, err = scan.ParsePorts(o.ports); err != nil {
			return inputError(fmt.Errorf("-p: %w", err))
		}
	default:
		job.Ports = table.Top(cmp.Or(o.top, 100), "tcp")
	}
	var bar *textui.Progress
	job.OnStart = func(probes int) {
		bar = a.newProgress("scan", int64(probes))
		bar.CountsThings("ports")
	}
	job.OnResult = func(scan.Result) { bar.Add(1) }
	if o.stream {
		job.OnPort = func(addr netip.Addr, p scan.PortReport) {
			d := p.Doc()
			d.Address = addr.String()
			writeJSONLine(a.io.Out, d)
		}
	}
	outcome, err := scan.Run(ctx, job)
	if _, ok := errors.AsType[*scan.TargetError](err); ok {
		return inputError(err)
	} else if outcome == nil {
		return err
	}
	bar.Finish()
	sum, diffs := outcome.Summary, outcome.Differences
	if o.grepable != "" {
		header := fmt.Sprintf("netkit %s as: %s", buildVersion().Version, strings.Join(os.Args, " "))
		if err := writeFile(a, o.grepable, func(w io.Writer) error { return outcome.Report.WriteGrepable(w, header, sum.Elapsed) }); err != nil {
			return fmt.Errorf("-G %s: %w", o.grepable, err)
		}
	}
	view := (*scanReport)(outcome.Document())
	if !o.stream || a.json {
		if o.stream {
			// --stream --json: the lines are out; end with the summary line.
			view.Targets = nil
			writeJSONLine(a.io.Out, view)
		} else if err := a.render(view); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.io.Err, "scanned %d host%s, %d ports each, in %.2f s: %d open, %d closed, %d filtered\n",
			len(view.Targets), plural(len(view.Targets)), view.Ports, view.Seconds, view.Open, view.Closed, view.Filtered)
	}
	if err != nil {
		return err
	}
	if sum.LocalErrors > 0 {
		fmt.Fprintf(a.io.Err, "netkit: %d port%s could not be probed because of local errors (see the reasons above); they are not counted as closed\n", sum.LocalErrors, plural(sum.LocalErrors))
		return errSilentFailure
	}
	if len(diffs) > 0 {
		return errSilentFailure
	}
	return nil
}
