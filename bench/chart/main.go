// Command chart draws each peer comparison's figures (bench/internal/figures
// JSON) as an SVG beside it, and prints every panel's medians and ratios:
//
//	go run ./bench/chart bench/results/*.figures.json
//
// bench/results/dns.figures.json becomes bench/results/dns.svg. A file that
// does not parse, or whose figures are malformed, stops it with exit 1.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/netkit-dev/netkit/bench/internal/figures"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: chart FILE.figures.json...")
		return 2
	}
	for _, path := range args {
		if !strings.HasSuffix(path, ".figures.json") {
			fmt.Fprintf(stderr, "chart: %s: the name must end in .figures.json\n", path)
			return 2
		}
		f, err := figures.Read(path)
		if err != nil {
			fmt.Fprintln(stderr, "chart:", err)
			return 1
		}
		svg := strings.TrimSuffix(path, ".figures.json") + ".svg"
		if err := os.WriteFile(svg, figures.SVG(f), 0o644); err != nil {
			fmt.Fprintln(stderr, "chart:", err)
			return 1
		}
		summary(stdout, f)
		fmt.Fprintf(stdout, "(drawn in %s)\n\n", svg)
	}
	return 0
}

// summary prints each panel as a table: median, spread, ratio.
func summary(w io.Writer, f figures.File) {
	fmt.Fprintf(w, "== %s (%s, %s)\n", f.Comparison, f.Command, f.Date)
	for _, p := range f.Panels {
		better := "higher is better"
		if p.LowerIsBetter {
			better = "lower is better"
		}
		fmt.Fprintf(w, "%s: %s, %s (%s)\n", p.Title, p.Metric, p.Unit, better)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "\tcontender\trounds\tmedian\tmin\tmax\tratio to %s\tother load\t\n", p.Reference)
		for _, c := range p.Contenders {
			lo, hi := c.Rounds[0], c.Rounds[0]
			for _, x := range c.Rounds {
				lo, hi = min(lo, x), max(hi, x)
			}
			other := "-" // not recorded
			if len(c.Other) > 0 {
				other = fmt.Sprintf("≤%.2f cores", c.MaxOther())
			}
			fmt.Fprintf(tw, "\t%s\t%d\t%s\t%s\t%s\t%.2f\t%s\t\n", c.Name, len(c.Rounds), figures.Num(c.Median()), figures.Num(lo), figures.Num(hi), p.Ratio(c), other)
		}
		tw.Flush()
	}
}
