// Command echobench runs the server-engine matrix: the goroutine engine,
// the event loop, Python asyncio and Python's ThreadingTCPServer (and,
// with -servers, uvloop and uvloop-streams, which need Debian's
// python3-uvloop), each
// pinned to CPU 0, against `netkit bench echo` pinned to CPU 1, for every
// combination of connection count and payload size; then the memory each
// idle connection costs, and whether a reader that never reads makes the
// server's memory grow. It uses a fixed port, so bench/echo.sh runs it in
// a network namespace of its own; run that.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/netkit-dev/netkit/bench/internal/figures"
	"github.com/netkit-dev/netkit/bench/internal/proc"
)

const addr = "127.0.0.1:9000"

type contender struct {
	Name string
	argv []string
}

type cell struct {
	Server     string    `json:"server"`
	Conns      int       `json:"connections"`
	Payload    int       `json:"payload"`
	ReqPerSec  float64   `json:"requests_per_second"`
	P50us      float64   `json:"p50_us"`
	P99us      float64   `json:"p99_us"`
	CPUPerMReq float64   `json:"server_cpu_seconds_per_million_requests"`
	SysPerMReq float64   `json:"server_kernel_cpu_seconds_per_million_requests"`
	Runs       []float64 `json:"all_requests_per_second"`
	p50s, p99s []float64
	cpus, syss []float64
	others     []float64 // other work during each round, in cores
	Errors     uint64    `json:"errors"`
	SkippedWhy string    `json:"skipped,omitempty"`
}

type idleResult struct {
	Server       string  `json:"server"`
	Conns        int     `json:"connections"`
	KiBPerConn   float64 `json:"rss_kib_per_idle_connection"`
	BaseRSSMiB   float64 `json:"base_rss_mib"`
	LoadedRSSMiB float64 `json:"loaded_rss_mib"`
}

type slowResult struct {
	Server     string  `json:"server"`
	SentMiB    float64 `json:"sent_mib"`
	RSSGrowMiB float64 `json:"rss_growth_mib"`
}

func main() {
	netkit := flag.String("netkit", "bin/netkit", "the netkit binary")
	rounds := flag.Int("rounds", 5, "runs per cell; medians are over these")
	dur := flag.Duration("duration", 3*time.Second, "length of each run")
	connsFlag := flag.String("conns", "1,100,1000,10000", "connection counts")
	payloadsFlag := flag.String("payloads", "64,1024,16384", "payload sizes")
	serversFlag := flag.String("servers", "goroutine,eventloop,asyncio,threading", "servers to run; ENGINE@BINARY runs a netkit engine from another build (before/after comparisons)")
	out := flag.String("out", "bench/results/echo", "write OUT.json and OUT.svg")
	idleN := flag.Int("idle", 10000, "idle connections for the memory test (0 to skip)")
	figs := flag.String("figures", "", "also write every cell's per-round figures to this bench/internal/figures file (NAME.figures.json)")
	flag.Parse()

	all := map[string]contender{
		"goroutine": {"goroutine", []string{*netkit, "serve", "echo", "tcp://" + addr}},
		"eventloop": {"eventloop", []string{*netkit, "serve", "echo", "--engine", "eventloop", "tcp://" + addr}},
		"asyncio":   {"asyncio", []string{"python3", "bench/asyncio_echo.py", "9000"}},
		"threading": {"threading", []string{"python3", "bench/threading_echo.py", "9000"}},
		// uvloop from Debian's python3-uvloop, for Debian's python3.
		"uvloop":         {"uvloop", []string{"/usr/bin/python3", "bench/uvloop_echo.py", "9000", "protocol"}},
		"uvloop-streams": {"uvloop-streams", []string{"/usr/bin/python3", "bench/uvloop_echo.py", "9000", "streams"}},
	}
	var servers []contender
	for _, s := range strings.Split(*serversFlag, ",") {
		c, ok := all[s]
		if engine, bin, found := strings.Cut(s, "@"); found {
			c, ok = all[engine]
			if ok && (engine == "goroutine" || engine == "eventloop") {
				c = contender{s, append([]string{bin}, c.argv[1:]...)}
			}
		}
		if !ok {
			fail("unknown server %q", s)
		}
		servers = append(servers, c)
	}
	var results []cell
	for _, conns := range ints(*connsFlag) {
		for _, payload := range ints(*payloadsFlag) {
			cells := make([]cell, len(servers))
			for r := range *rounds {
				for k := range servers {
					i := (r + k) % len(servers)
					c := &cells[i]
					c.Server, c.Conns, c.Payload = servers[i].Name, conns, payload
					if servers[i].Name == "threading" && conns > 1000 {
						c.SkippedWhy = "a thread per connection: 10,000 threads is past what the test can hold to"
						continue
					}
					var rps, p50, p99, cpu, sys float64
					var errs uint64
					other, _ := proc.Steady(servers[i].Name, func() (float64, error) {
						var ours float64
						rps, p50, p99, cpu, sys, errs, ours = runCell(*netkit, servers[i], conns, payload, *dur)
						return ours, nil
					})
					c.others = append(c.others, other)
					c.Runs = append(c.Runs, rps)
					c.Errors += errs
					c.p50s, c.p99s, c.cpus, c.syss = append(c.p50s, p50), append(c.p99s, p99), append(c.cpus, cpu), append(c.syss, sys)
					fmt.Fprintf(os.Stderr, "%-9s conns %5d payload %5d round %d: %9.0f req/s  p50 %7.0fus p99 %7.0fus  cpu %.2fus/req (kernel %.2f) errors %d, other load %.2f cores\n",
						servers[i].Name, conns, payload, r+1, rps, p50, p99, cpu, sys, errs, other)
				}
			}
			for i := range cells {
				c := &cells[i]
				c.ReqPerSec, c.P50us, c.P99us, c.CPUPerMReq, c.SysPerMReq = proc.Median(c.Runs), proc.Median(c.p50s), proc.Median(c.p99s), proc.Median(c.cpus), proc.Median(c.syss)
			}
			results = append(results, cells...)
		}
	}
	var idle []idleResult
	var slow []slowResult
	if *idleN > 0 {
		for _, s := range servers {
			if s.Name == "threading" {
				continue
			}
			idle = append(idle, idleTest(s, *idleN))
		}
		for _, s := range servers {
			if s.Name == "goroutine" || s.Name == "eventloop" {
				slow = append(slow, slowReader(s))
			}
		}
	}
	report(results, idle, slow)
	b, _ := json.MarshalIndent(map[string]any{"matrix": results, "idle": idle, "slow_reader": slow}, "", "  ")
	os.WriteFile(*out+".json", b, 0o644)
	os.WriteFile(*out+".svg", []byte(chart(results)), 0o644)
	if *figs != "" {
		if err := writeFigures(*figs, servers, results); err != nil {
			fail("%v", err)
		}
	}
}

// writeFigures writes three panels per cell, server CPU per request, its
// user-space part, and requests per second, every round's figure, ratios
// to uvloop with asyncio.Protocol (the tuned peer) when it ran.
func writeFigures(path string, servers []contender, results []cell) error {
	ref := servers[0].Name
	for _, s := range servers {
		if s.Name == "uvloop" {
			ref = s.Name
		}
	}
	command := map[string]string{}
	for _, s := range servers {
		command[s.Name] = strings.Join(s.argv, " ")
	}
	var panels []figures.Panel
	for start := 0; start < len(results); start += len(servers) {
		cells := results[start : start+len(servers)]
		title := fmt.Sprintf("echo, %d connections, %d-byte payloads", cells[0].Conns, cells[0].Payload)
		cpu := figures.Panel{Title: title, Metric: "server CPU per request", Unit: "µs", LowerIsBetter: true, Reference: ref}
		user := figures.Panel{Title: title, Metric: "server user-space CPU per request", Unit: "µs", LowerIsBetter: true, Reference: ref}
		rate := figures.Panel{Title: title, Metric: "requests per second", Unit: "req/s", Reference: ref}
		for _, c := range cells {
			if c.SkippedWhy != "" {
				continue
			}
			var users []float64
			for i := range c.cpus {
				users = append(users, max(c.cpus[i]-c.syss[i], 0))
			}
			cpu.Contenders = append(cpu.Contenders, figures.Contender{Name: c.Server, Command: command[c.Server], Rounds: c.cpus, Other: c.others})
			user.Contenders = append(user.Contenders, figures.Contender{Name: c.Server, Command: command[c.Server], Rounds: users, Other: c.others})
			rate.Contenders = append(rate.Contenders, figures.Contender{Name: c.Server, Command: command[c.Server], Rounds: c.Runs, Other: c.others})
		}
		panels = append(panels, cpu, user, rate)
	}
	return figures.Save(path, "bench/echo.sh "+strings.Join(os.Args[1:], " "), panels...)
}

// pinned runs argv on the given CPU with a raised descriptor limit.
func pinned(cpu string, argv []string) *exec.Cmd {
	script := `ulimit -n 65536 2>/dev/null || ulimit -n $(ulimit -Hn); exec taskset -c "$0" "$@"`
	return exec.Command("sh", append([]string{"-c", script, cpu}, argv...)...)
}

func startServer(s contender) *exec.Cmd {
	cmd := pinned("0", s.argv)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		fail("%s: %v", s.Name, err)
	}
	if err := proc.WaitListening(9000); err != nil {
		fail("%s: %v", s.Name, err)
	}
	return cmd
}

func stopServer(cmd *exec.Cmd) {
	proc.Stop(cmd)
	for proc.Listening(9000) {
		time.Sleep(10 * time.Millisecond)
	}
}

// runCell runs one load test against s. The server's CPU time is taken
// over the whole client run and divided by every request the client had
// echoed, warm-up included.
func runCell(netkit string, s contender, conns, payload int, d time.Duration) (rps, p50, p99, cpuPerM, sysPerM float64, errs uint64, ours float64) {
	srv := startServer(s)
	defer stopServer(srv)
	user0, sys0 := proc.CPUTimes(srv.Process.Pid)
	cli := pinned("1", []string{netkit, "bench", "echo", "tcp://" + addr, "--json", "-c", strconv.Itoa(conns), "-s", strconv.Itoa(payload), "-d", d.String(), "--warmup", "500ms"})
	cli.Stderr = os.Stderr
	outb, _ := cli.Output() // exit 1 on errors still prints the result
	user1, sys1 := proc.CPUTimes(srv.Process.Pid)
	ours = user1 - user0 + sys1 - sys0
	if cli.ProcessState != nil {
		if ru, ok := cli.ProcessState.SysUsage().(*syscall.Rusage); ok {
			ours += time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds() // the load generator
		}
	}
	var r struct {
		All       uint64  `json:"requests_with_warmup"`
		Requests  uint64  `json:"requests"`
		Errors    uint64  `json:"errors"`
		ReqPerSec float64 `json:"requests_per_second"`
		P50       int64   `json:"p50_ns"`
		P99       int64   `json:"p99_ns"`
	}
	if err := json.Unmarshal(outb, &r); err != nil {
		fmt.Fprintf(os.Stderr, "%s: bench output %q: %v\n", s.Name, outb, err)
		return 0, 0, 0, 0, 0, 1, ours
	}
	if r.All > 0 {
		cpuPerM = (user1 - user0 + sys1 - sys0) / float64(r.All) * 1e6
		sysPerM = (sys1 - sys0) / float64(r.All) * 1e6
	}
	return r.ReqPerSec, float64(r.P50) / 1e3, float64(r.P99) / 1e3, cpuPerM, sysPerM, r.Errors, ours
}

// idleTest opens n connections that each echo one byte once, then sit
// idle, and reports what they cost the server in resident memory.
func idleTest(s contender, n int) idleResult {
	srv := startServer(s)
	defer stopServer(srv)
	time.Sleep(300 * time.Millisecond)
	base := proc.RSSMiB(srv.Process.Pid)
	var conns []net.Conn
	for range n {
		c, err := net.DialTimeout("tcp4", addr, 10*time.Second)
		if err != nil {
			fmt.Fprintf(os.Stderr, "idle %s: %v after %d connections\n", s.Name, err, len(conns))
			break
		}
		c.Write([]byte{'x'})
		io.ReadFull(c, make([]byte, 1))
		conns = append(conns, c)
	}
	time.Sleep(time.Second)
	loaded := proc.RSSMiB(srv.Process.Pid)
	for _, c := range conns {
		c.Close()
	}
	res := idleResult{Server: s.Name, Conns: len(conns), BaseRSSMiB: base, LoadedRSSMiB: loaded}
	if len(conns) > 0 {
		res.KiBPerConn = (loaded - base) * 1024 / float64(len(conns))
	}
	fmt.Fprintf(os.Stderr, "idle %-9s %d connections: %.1f KiB each (%.1f -> %.1f MiB)\n", s.Name, len(conns), res.KiBPerConn, base, loaded)
	return res
}

// slowReader sends 256 MiB to the echo server without reading the echo:
// the server must stop reading rather than queue it all.
func slowReader(s contender) slowResult {
	srv := startServer(s)
	defer stopServer(srv)
	time.Sleep(300 * time.Millisecond)
	base := proc.RSSMiB(srv.Process.Pid)
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		fail("slow reader: %v", err)
	}
	defer c.Close()
	buf := make([]byte, 1<<20)
	sent := 0
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	for sent < 256<<20 {
		n, err := c.Write(buf)
		sent += n
		if err != nil {
			break // the server stopped reading: the send buffers are full
		}
	}
	time.Sleep(300 * time.Millisecond)
	grow := proc.RSSMiB(srv.Process.Pid) - base
	fmt.Fprintf(os.Stderr, "slow reader %-9s: sent %d MiB before the server stopped reading; its RSS grew %.1f MiB\n", s.Name, sent>>20, grow)
	return slowResult{Server: s.Name, SentMiB: float64(sent) / (1 << 20), RSSGrowMiB: grow}
}

func report(results []cell, idle []idleResult, slow []slowResult) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "server\tconns\tpayload\treq/s\tp50 us\tp99 us\tCPU us/req\tkernel us/req\terrors\t\n")
	for _, c := range results {
		if c.SkippedWhy != "" {
			fmt.Fprintf(tw, "%s\t%d\t%d\tskipped\t\t\t\t\t\t\n", c.Server, c.Conns, c.Payload)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%.0f\t%.0f\t%.2f\t%.2f\t%d\t\n", c.Server, c.Conns, c.Payload, c.ReqPerSec, c.P50us, c.P99us, c.CPUPerMReq, c.SysPerMReq, c.Errors)
	}
	tw.Flush()
	for _, r := range idle {
		fmt.Printf("idle: %-9s %5d connections, %.1f KiB of RSS each\n", r.Server, r.Conns, r.KiBPerConn)
	}
	for _, r := range slow {
		fmt.Printf("slow reader: %-9s RSS grew %.1f MiB while a client pushed %.0f MiB without reading\n", r.Server, r.RSSGrowMiB, r.SentMiB)
	}
}

// chart draws requests per second as grouped bars, one group per
// (connections, payload) cell, one bar per server.
func chart(results []cell) string {
	type key struct{ conns, payload int }
	var keys []key
	groups := map[key][]cell{}
	maxRPS := 1.0
	for _, c := range results {
		k := key{c.Conns, c.Payload}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], c)
		maxRPS = max(maxRPS, c.ReqPerSec)
	}
	colors := map[string]string{"goroutine": "#4e79a7", "eventloop": "#f28e2b", "asyncio": "#59a14f", "threading": "#e15759", "uvloop": "#76b7b2", "uvloop-streams": "#edc948"}
	const bw, gap, h = 14, 18, 300
	width := 60
	for _, k := range keys {
		width += len(groups[k])*bw + gap
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="10">`, width, h+80)
	fmt.Fprintf(&b, `<text x="10" y="14" font-size="12">echo requests per second (server on one core, median of runs)</text>`)
	x := 50
	for _, k := range keys {
		for i, c := range groups[k] {
			bh := int(c.ReqPerSec / maxRPS * h)
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s %.0f req/s</title></rect>`, x+i*bw, 20+h-bh, bw-2, bh, colors[c.Server], c.Server, c.ReqPerSec)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" transform="rotate(45 %d %d)">%d conns, %d B</text>`, x, h+34, x, h+34, k.conns, k.payload)
		x += len(groups[k])*bw + gap
	}
	ly := 30
	for _, s := range []string{"goroutine", "eventloop", "asyncio", "threading", "uvloop", "uvloop-streams"} {
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>`, width-90, ly, colors[s], width-75, ly+9, s)
		ly += 14
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func ints(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			fail("bad number %q", f)
		}
		out = append(out, n)
	}
	return out
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "echobench: "+format+"\n", args...)
	os.Exit(1)
}
