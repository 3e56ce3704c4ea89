package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/dnsclient"
	"github.com/netkit-dev/netkit/internal/textui"
)

// runTrace resolves each query iteratively from the root.
func runTrace(ctx context.Context, a *app, c *dnsclient.Client, o lookupOptions, queries []dnsclient.Query) error {
	if len(c.Servers) > 0 {
		return usageError("--trace asks the root servers; it takes no @SERVER")
	}
	t := &dnsclient.Tracer{Client: c}
	if o.hints != "" {
		roots, err := dnsclient.ReadRootHints(o.hints)
		if err != nil {
			return inputError(fmt.Errorf("--root-hints: %w", err))
		}
		t.Roots = roots
	}
	if !a.json {
		t.OnHop = func(h dnsclient.Hop) {
			line := fmt.Sprintf(";; %s from %s in %d ms: %s", h.Zone, h.Server, h.RTT.Milliseconds(), h.Rcode)
			if h.Err != nil {
				line = fmt.Sprintf(";; %s: %v", h.Zone, h.Err)
			}
			if h.Referral != "" {
				line += fmt.Sprintf(", referral to %s (%s; %d glue)", h.Referral, strings.Join(h.NS, " "), h.Glue)
			}
			fmt.Fprintln(a.io.Out, line)
			for _, rr := range h.Answer {
				fmt.Fprintln(a.io.Out, rr)
			}
		}
	}
	var all [][]dnsclient.Hop
	failed := false
	for _, q := range queries {
		if !a.json {
			fmt.Fprintf(a.io.Out, "; <<>> netkit dns lookup --trace <<>> %s\n", q)
		}
		hops, err := t.Trace(ctx, q.Name, q.Type)
		all = append(all, hops)
		if err != nil {
			failed = true
			fmt.Fprintln(a.io.Err, message(fmt.Errorf("trace of %s: %w", q, err)))
		}
	}
	if a.json {
		if err := a.render(jsonDoc{all}); err != nil {
			return err
		}
	}
	if failed {
		return errSilentFailure
	}
	return nil
}

// batchResult is one line of -f output.
type batchResult struct {
	Name   string   `json:"name"`
	Type   string   `json:"type"`
	Rcode  string   `json:"rcode,omitempty"`
	Answer []string `json:"answer,omitempty"`
	RTTms  float64  `json:"rtt_ms"`
	Error  string   `json:"error,omitempty"`
}

func (b batchResult) writeHuman(w io.Writer, _ textui.Style) error {
	if b.Error != "" {
		_, err := fmt.Fprintf(w, "%s\t%s\terror\t%s\n", b.Name, b.Type, b.Error)
		return err
	}
	_, err := fmt.Fprintf(w, "%s\t%s\t%s\t%.2f ms\t%s\n", b.Name, b.Type, b.Rcode, b.RTTms, strings.Join(b.Answer, " "))
	return err
}

type batchSummary struct {
	Queries  int     `json:"queries"`
	Answered int     `json:"answered"`
	Failed   int     `json:"failed"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	Seconds  float64 `json:"seconds"`
}

func (b batchSummary) writeHuman(w io.Writer, _ textui.Style) error {
	_, err := fmt.Fprintf(w, ";; %d queries in %.2f s: %d answered, %d failed; latency p50 %.2f ms, p99 %.2f ms\n", b.Queries, b.Seconds, b.Answered, b.Failed, b.P50ms, b.P99ms)
	return err
}

// runBatch runs the queries of a file concurrently.
func runBatch(ctx context.Context, a *app, c *dnsclient.Client, o lookupOptions, extra []dnsclient.Query) error {
	if o.parallel <= 0 {
		return usageError("invalid --parallel %d: it must be positive", o.parallel)
	}
	var r io.Reader = a.io.In
	if o.batch != "-" {
		f, err := os.Open(o.batch)
		if err != nil {
			return inputError(fmt.Errorf("-f: %w", err))
		}
		defer f.Close()
		r = f
	}
	queries, err := dnsclient.ReadQueries(r, o.batch)
	if err != nil {
		return inputError(fmt.Errorf("-f %w", err))
	}
	queries = append(extra, queries...)
	if len(queries) == 0 {
		return inputError(fmt.Errorf("-f %s: no queries in it", o.batch))
	}
	if c.Servers == nil {
		if err := c.System(o.resolv); err != nil {
			return fmt.Errorf("reading %s: %w (give @SERVER)", o.resolv, err)
		}
	}
	sum := c.Batch(ctx, queries, dnsclient.BatchOptions{Parallel: o.parallel, Unordered: o.unordered}, func(r dnsclient.BatchResult) {
		res := batchResult{Name: r.Query.Name, Type: dnsclient.TypeString(r.Query.Type)}
		if r.Err != nil {
			res.Error = r.Err.Error()
		} else {
			res.Rcode, res.RTTms, res.Answer = r.Answer.Rcode(), ms(r.Answer.RTT), r.Answer.Records()
		}
		a.emit(res)
	})
	view := batchSummary{Queries: sum.Queries, Answered: sum.Answered, Failed: sum.Failed, Seconds: sum.Elapsed.Seconds(),
		P50ms: ms(sum.Latency.Quantile(0.5)), P99ms: ms(sum.Latency.Quantile(0.99))}
	if err := a.emit(view); err != nil {
		return err
	}
	if sum.Failed > 0 {
		return errSilentFailure
	}
	return nil
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
