// Command compare runs two or more shell commands interleaved, several
// times each, and prints each one's median wall time, CPU seconds (user +
// system, children included) and peak resident memory, with ratios to the
// first command.
//
//	go run ./bench/compare -n 5 netkit='netkit ip merge big.txt' iprange='iprange big.txt'
//
// The rounds interleave the contenders, and the order within a round
// rotates, so that a noisy neighbour or a warming cache hurts every
// contender alike. Medians, not means, so one bad run does not decide. A
// run during which other work (not the command or its children) kept more
// than a quarter of a core busy is run again, at most twice
// (bench/internal/proc.Steady); -figures records each run's other load.
// CPU seconds per unit of work are steadier than wall time on a shared
// machine: quote those when they differ.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/netkit-dev/netkit/bench/internal/figures"
	"github.com/netkit-dev/netkit/bench/internal/proc"
)

// contender is one command under test.
type contender struct {
	Name string `json:"name"`
	Cmd  string `json:"cmd"`
}

// sample is one run of one contender.
type sample struct {
	Wall   time.Duration
	CPU    time.Duration
	MaxRSS int64   // bytes
	Other  float64 // cores busy with other work meanwhile
}

// summary is a contender's medians and its ratios to the first contender.
type summary struct {
	Name       string    `json:"name"`
	Cmd        string    `json:"cmd"`
	Runs       int       `json:"runs"`
	WallSec    float64   `json:"wall_seconds"`
	CPUSec     float64   `json:"cpu_seconds"`
	MaxRSSMiB  float64   `json:"max_rss_mib"`
	WallRatio  float64   `json:"wall_ratio"`
	CPURatio   float64   `json:"cpu_ratio"`
	RSSRatio   float64   `json:"rss_ratio"`
	WallAllSec []float64 `json:"wall_all_seconds"`
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 5, "runs of each command")
	warmup := fs.Int("warmup", 1, "unmeasured runs of each command first")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	figs := fs.String("figures", "", "append the per-round wall and CPU seconds to this bench/internal/figures file")
	title := fs.String("title", "", "with -figures: what was measured (\"full loopback port scan\")")
	script := fs.String("script", "", "with -figures: the script and arguments that ran this")
	with := fs.String("with", "", "PIDs, comma-separated, of processes the rounds drive (a server the script started): their CPU is not other load")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: compare [-n RUNS] [-warmup RUNS] [-json] [-with PIDS] [-figures FILE -title TITLE -script SCRIPT] NAME=COMMAND NAME=COMMAND...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cs, err := parseContenders(fs.Args())
	var pids []int
	if err == nil && *with != "" {
		pids, err = parsePIDs(*with)
	}
	if err == nil && *n < 1 {
		err = fmt.Errorf("-n %d: at least one run is needed", *n)
	}
	if err == nil && *figs != "" && (*title == "" || !strings.HasSuffix(*figs, ".figures.json")) {
		err = fmt.Errorf("-figures %q: give -title too, and a name ending in .figures.json", *figs)
	}
	if err != nil {
		fmt.Fprintln(stderr, "compare:", err)
		fs.Usage()
		return 2
	}
	for range *warmup {
		for _, c := range cs {
			if _, err := measure(c); err != nil {
				fmt.Fprintln(stderr, "compare:", err)
				return 1
			}
		}
	}
	samples := make([][]sample, len(cs))
	for round := range *n {
		for k := range cs {
			i := (round + k) % len(cs) // rotate who goes first
			var s sample
			other, err := proc.Steady(cs[i].Name, func() (float64, error) {
				driven := cpuOf(pids)
				var err error
				s, err = measure(cs[i])
				return s.CPU.Seconds() + cpuOf(pids) - driven, err
			})
			if err != nil {
				fmt.Fprintln(stderr, "compare:", err)
				return 1
			}
			s.Other = other
			samples[i] = append(samples[i], s)
		}
	}
	sums := summarize(cs, samples)
	if *figs != "" {
		if err := appendFigures(*figs, *title, *script, cs, samples); err != nil {
			fmt.Fprintln(stderr, "compare:", err)
			return 1
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(sums)
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "name\truns\twall s\tcpu s\tpeak RSS MiB\twall ratio\tcpu ratio\trss ratio\t\n")
	for _, s := range sums {
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.1f\t%.2f\t%.2f\t%.2f\t\n", s.Name, s.Runs, s.WallSec, s.CPUSec, s.MaxRSSMiB, s.WallRatio, s.CPURatio, s.RSSRatio)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "(medians of %d interleaved runs; ratios are to %s, below 1 is better)\n", *n, cs[0].Name)
	return 0
}

func parseContenders(args []string) ([]contender, error) {
	if len(args) < 2 {
		return nil, errors.New("give at least two NAME=COMMAND arguments")
	}
	var cs []contender
	seen := map[string]bool{}
	for _, a := range args {
		name, cmd, ok := strings.Cut(a, "=")
		if !ok || name == "" || strings.TrimSpace(cmd) == "" {
			return nil, fmt.Errorf("%q: write NAME=COMMAND", a)
		}
		if seen[name] {
			return nil, fmt.Errorf("%q: the name %s is used twice", a, name)
		}
		seen[name] = true
		cs = append(cs, contender{Name: name, Cmd: cmd})
	}
	return cs, nil
}

// parsePIDs reads -with.
func parsePIDs(list string) ([]int, error) {
	var pids []int
	for _, f := range strings.Split(list, ",") {
		pid, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("-with %q: %q is not a process ID", list, f)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// cpuOf is the CPU seconds the processes have used so far.
func cpuOf(pids []int) float64 {
	t := 0.0
	for _, pid := range pids {
		t += proc.CPUSeconds(pid)
	}
	return t
}

// measure runs c once under sh and reads its resource usage from wait4,
// which counts the command and every child it waited for.
func measure(c contender) (sample, error) {
	cmd := exec.Command("sh", "-c", c.Cmd)
	var errb strings.Builder
	cmd.Stderr = &errb
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%s: %s: %v: %s", c.Name, c.Cmd, err, strings.TrimSpace(errb.String()))
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return sample{}, errors.New("no resource usage on this system")
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return sample{Wall: wall, CPU: cpu, MaxRSS: ru.Maxrss * 1024}, nil
}

func summarize(cs []contender, samples [][]sample) []summary {
	var out []summary
	for i, c := range cs {
		ss := samples[i]
		s := summary{
			Name: c.Name, Cmd: c.Cmd, Runs: len(ss),
			WallSec:   median(ss, func(s sample) float64 { return s.Wall.Seconds() }),
			CPUSec:    median(ss, func(s sample) float64 { return s.CPU.Seconds() }),
			MaxRSSMiB: median(ss, func(s sample) float64 { return float64(s.MaxRSS) / (1 << 20) }),
		}
		for _, x := range ss {
			s.WallAllSec = append(s.WallAllSec, x.Wall.Seconds())
		}
		out = append(out, s)
	}
	for i := range out {
		out[i].WallRatio = ratio(out[i].WallSec, out[0].WallSec)
		out[i].CPURatio = ratio(out[i].CPUSec, out[0].CPUSec)
		out[i].RSSRatio = ratio(out[i].MaxRSSMiB, out[0].MaxRSSMiB)
	}
	return out
}

// appendFigures adds two panels, wall and CPU seconds per run with every
// round's figure, to the comparison file at path, ratios to the first
// contender.
func appendFigures(path, title, script string, cs []contender, samples [][]sample) error {
	panel := func(metric string, f func(sample) float64) figures.Panel {
		p := figures.Panel{Title: title + ": " + metric, Metric: metric + " per run", Unit: "s", LowerIsBetter: true, Reference: cs[0].Name}
		for i, c := range cs {
			fc := figures.Contender{Name: c.Name, Command: c.Cmd}
			for _, s := range samples[i] {
				fc.Rounds = append(fc.Rounds, f(s))
				fc.Other = append(fc.Other, s.Other)
			}
			p.Contenders = append(p.Contenders, fc)
		}
		return p
	}
	return figures.Append(path, script,
		panel("wall time", func(s sample) float64 { return s.Wall.Seconds() }),
		panel("CPU time", func(s sample) float64 { return s.CPU.Seconds() }))
}

func median(ss []sample, f func(sample) float64) float64 {
	if len(ss) == 0 {
		return 0
	}
	v := make([]float64, len(ss))
	for i, s := range ss {
		v[i] = f(s)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
