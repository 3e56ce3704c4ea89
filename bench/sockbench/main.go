// Command sockbench measures netkit's sockets layer against its peers:
// forwarding throughput (netkit forward against socat) and connection rate
// (netkit serve echo against socat fork, ncat -k -e cat and Python
// asyncio). It uses fixed ports, so bench/sockets.sh runs it inside a
// network namespace of its own; run that, not this.
//
// Each round starts every contender afresh, in rotating order, and the
// report gives each contender's median and its ratio to netkit's.
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
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

const (
	sinkAddr   = "127.0.0.1:9000"
	listenAddr = "127.0.0.1:9001"
)

type contender struct {
	name string
	argv []string
}

func main() {
	netkit := flag.String("netkit", "bin/netkit", "the netkit binary")
	rounds := flag.Int("rounds", 5, "rounds; medians are over these")
	gib := flag.Float64("gib", 2, "GiB forwarded per throughput run")
	dur := flag.Duration("duration", 3*time.Second, "length of a connection-rate run")
	workers := flag.Int("workers", 8, "concurrent connections in the connection-rate test")
	only := flag.String("only", "", "run only this test: forward, connrate or flowrate")
	out := flag.String("json", "", "also write the results as JSON to this file")
	names := flag.String("contenders", "", "comma-separated contenders to run (default all)")
	figs := flag.String("figures", "", "write the forward test's per-round figures to this bench/internal/figures file (NAME.figures.json)")
	flag.Parse()
	pick := func(cs []contender) []contender {
		if *names == "" {
			return cs
		}
		var out []contender
		for _, c := range cs {
			for _, n := range strings.Split(*names, ",") {
				if c.name == n {
					out = append(out, c)
				}
			}
		}
		if len(out) == 0 {
			fail("no contender named in -contenders %q", *names)
		}
		return out
	}

	results := map[string]any{}
	dir, err := os.MkdirTemp("", "sockbench")
	if err != nil {
		fail("%v", err)
	}
	defer os.RemoveAll(dir)
	gateway := []string{*netkit, "gateway", "run", writeConfig(dir, "gateway.toml", gatewayConfig), "--admin", dir + "/gw.sock"}
	haproxy := []string{"haproxy", "-db", "-f", writeConfig(dir, "haproxy.cfg", haproxyConfig)}
	rinetd := []string{"rinetd", "-f", "-c", writeConfig(dir, "rinetd.conf", "127.0.0.1 9001 127.0.0.1 9000\n")}
	nginx := []string{"nginx", "-c", writeConfig(dir, "nginx.conf", strings.ReplaceAll(nginxConfig, "DIR", dir)), "-e", "stderr"}
	if *only == "" || *only == "forward" {
		fwd := []contender{
			{"netkit", []string{*netkit, "forward", "tcp://" + listenAddr, "tcp://" + sinkAddr}},
			{"netkit-gateway", gateway},
			{"netkit-no-splice", []string{*netkit, "forward", "--no-splice", "tcp://" + listenAddr, "tcp://" + sinkAddr}},
			{"haproxy-splice", haproxy},
			{"nginx-stream", nginx},
			{"socat-b131072", []string{"socat", "-b131072", "TCP-LISTEN:9001,bind=127.0.0.1,reuseaddr", "TCP:" + sinkAddr}},
			{"socat", []string{"socat", "TCP-LISTEN:9001,bind=127.0.0.1,reuseaddr", "TCP:" + sinkAddr}},
		}
		cs := pick(fwd)
		res := forwardBench(cs, *rounds, int64(*gib*(1<<30)))
		results["forward"] = res
		if *figs != "" {
			if err := forwardFigures(*figs, cs, res, *gib); err != nil {
				fail("%v", err)
			}
		}
	}
	if *only == "flowrate" {
		// New flows through each forwarder to one echo server: the
		// forwarder's CPU per flow.
		echo := start(contender{"echo", []string{*netkit, "serve", "echo", "--engine", "eventloop", "tcp://" + sinkAddr}}, sinkAddr)
		fwd := []contender{
			{"netkit-gateway", gateway},
			{"netkit-forward", []string{*netkit, "forward", "tcp://" + listenAddr, "tcp://" + sinkAddr}},
			{"haproxy", haproxy},
			{"nginx-stream", nginx},
			{"rinetd", rinetd},
		}
		results["flowrate"] = connBench(*netkit, pick(fwd), listenAddr, *rounds, *dur, *workers)
		proc.Stop(echo)
	}
	if *only == "" || *only == "connrate" {
		echo := []contender{
			{"netkit", []string{*netkit, "serve", "echo", "tcp://" + sinkAddr}},
			{"netkit-eventloop", []string{*netkit, "serve", "echo", "--engine", "eventloop", "tcp://" + sinkAddr}},
			{"socat-fork", []string{"socat", "TCP-LISTEN:9000,bind=127.0.0.1,reuseaddr,fork", "EXEC:cat"}},
			{"ncat-k-e-cat", []string{"ncat", "-lk", "127.0.0.1", "9000", "-e", "/bin/cat"}},
			{"python-asyncio", []string{"python3", "bench/asyncio_echo.py", "9000"}},
		}
		results["connrate"] = connBench(*netkit, pick(echo), sinkAddr, *rounds, *dur, *workers)
	}
	if *out != "" {
		b, _ := json.MarshalIndent(results, "", "  ")
		os.WriteFile(*out, b, 0o644)
	}
}

// start runs a contender and waits until it listens on addr. It checks
// /proc/net/tcp rather than connecting: a probe connection would be
// forwarded, or would use up socat's one connection.
func start(c contender, addr string) *exec.Cmd {
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		fail("%s: %v", c.name, err)
	}
	port, _ := strconv.Atoi(addr[strings.LastIndexByte(addr, ':')+1:])
	if err := proc.WaitListening(port); err != nil {
		fail("%s: %v", c.name, err)
	}
	return cmd
}

type fwdResult struct {
	Name        string    `json:"name"`
	MiBps       float64   `json:"mib_per_second"`
	CPUPerGiB   float64   `json:"cpu_seconds_per_gib"`
	Ratio       float64   `json:"throughput_ratio_netkit_over_this"`
	AllMiBps    []float64 `json:"all_mib_per_second"`
	AllCPUPerGB []float64 `json:"all_cpu_seconds_per_gib"`
	OtherCores  []float64 `json:"other_cores"` // other work during each round (proc.Machine)
}

// forwardFigures writes the forward test's rounds as a figures file, CPU
// per GiB first, ratios to HAProxy with splicing (the tuned peer) when it
// ran.
func forwardFigures(path string, cs []contender, res []fwdResult, gib float64) error {
	ref := res[0].Name
	for _, r := range res {
		if r.Name == "haproxy-splice" {
			ref = r.Name
		}
	}
	title := fmt.Sprintf("forwarding %.0f GiB, every byte verified", gib)
	cpu := figures.Panel{Title: title, Metric: "forwarder CPU per GiB", Unit: "CPU s/GiB", LowerIsBetter: true, Reference: ref}
	rate := figures.Panel{Title: title, Metric: "throughput", Unit: "MiB/s", Reference: ref}
	for i, r := range res {
		cmd := strings.Join(cs[i].argv, " ")
		cpu.Contenders = append(cpu.Contenders, figures.Contender{Name: r.Name, Command: cmd, Rounds: r.AllCPUPerGB, Other: r.OtherCores})
		rate.Contenders = append(rate.Contenders, figures.Contender{Name: r.Name, Command: cmd, Rounds: r.AllMiBps, Other: r.OtherCores})
	}
	return figures.Save(path, "bench/sockets.sh "+strings.Join(os.Args[1:], " "), cpu, rate)
}

// forwardBench pushes n bytes through each forwarder to a sink that checks
// every byte.
func forwardBench(cs []contender, rounds int, n int64) []fwdResult {
	sink, err := net.Listen("tcp4", sinkAddr)
	if err != nil {
		fail("sink: %v", err)
	}
	defer sink.Close()
	st := newStream()
	rates := make([][]float64, len(cs))
	cpus := make([][]float64, len(cs))
	others := make([][]float64, len(cs))
	for r := range rounds {
		for k := range cs {
			i := (r + k) % len(cs)
			var secs, cpu, self float64
			other, _ := proc.Steady("forward "+cs[i].name, func() (float64, error) {
				cmd := start(cs[i], listenAddr)
				defer proc.Stop(cmd)
				got := make(chan error, 1)
				go func() {
					c, err := sink.Accept()
					if err != nil {
						got <- err
						return
					}
					defer c.Close()
					got <- st.verify(c, n)
				}()
				cpu0 := proc.CPUSeconds(cmd.Process.Pid)
				self0 := selfCPU()
				t0 := time.Now()
				src, err := net.Dial("tcp4", listenAddr)
				if err != nil {
					fail("%s: dial: %v", cs[i].name, err)
				}
				defer src.Close()
				if err := st.send(src.(*net.TCPConn), n); err != nil {
					fail("%s: send: %v", cs[i].name, err)
				}
				if err := <-got; err != nil {
					fail("%s: sink: %v", cs[i].name, err)
				}
				secs = time.Since(t0).Seconds()
				cpu = proc.CPUSeconds(cmd.Process.Pid) - cpu0
				self = selfCPU() - self0
				return cpu + self, nil
			})
			rates[i] = append(rates[i], float64(n)/(1<<20)/secs)
			cpus[i] = append(cpus[i], cpu/(float64(n)/(1<<30)))
			others[i] = append(others[i], other)
			fmt.Fprintf(os.Stderr, "forward %-16s round %d: %7.0f MiB/s, %.2f CPU s/GiB (source and sink %.2f; other load %.2f cores)\n", cs[i].name, r+1, rates[i][len(rates[i])-1], cpus[i][len(cpus[i])-1], self/(float64(n)/(1<<30)), other)
		}
	}
	var res []fwdResult
	for i, c := range cs {
		res = append(res, fwdResult{Name: c.name, MiBps: proc.Median(rates[i]), CPUPerGiB: proc.Median(cpus[i]), AllMiBps: rates[i], AllCPUPerGB: cpus[i], OtherCores: others[i]})
	}
	for i := range res {
		res[i].Ratio = res[0].MiBps / res[i].MiBps
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "forward (%.1f GiB, verified)\tMiB/s\tCPU s/GiB\tnetkit is x faster\t\n", float64(n)/(1<<30))
	for _, r := range res {
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.2f\t\n", r.Name, r.MiBps, r.CPUPerGiB, r.Ratio)
	}
	tw.Flush()
	return res
}

// The stream the forwarders carry is made of 4 KiB blocks, each an 8-byte
// block number (little-endian, counting the blocks of 4 MiB and starting
// again) then the rest of one fixed random block. The sink checks every
// byte: any changed, lost, repeated or reordered byte shows, short of
// whole 4 MiB stretches swapped. The sink compares with a 4 KiB block that
// stays in cache, so the harness spends as little of the two cores as it
// can and the forwarder's own cost shows in the throughput. (A source
// that sent from a memory file with sendfile(2) was tried: every
// contender got slower, the sink then copying from scattered 4 KiB page
// fragments.)
const (
	blockSize  = 4 << 10
	streamSize = 4 << 20
)

type stream struct {
	data  []byte          // one period of the stream
	block [blockSize]byte // the random block; its first 8 bytes are the number
}

func newStream() *stream {
	st := new(stream)
	rand.NewChaCha8([32]byte{42}).Read(st.block[:])
	st.data = make([]byte, streamSize)
	for b := 0; b < streamSize/blockSize; b++ {
		blk := st.data[b*blockSize : (b+1)*blockSize]
		copy(blk, st.block[:])
		binary.LittleEndian.PutUint64(blk, uint64(b))
	}
	return st
}

// send writes n bytes of the stream to c, then shuts down c's write side.
func (st *stream) send(c *net.TCPConn, n int64) error {
	for sent := int64(0); sent < n; {
		m, err := c.Write(st.data[:min(streamSize, n-sent)])
		sent += int64(m)
		if err != nil {
			return err
		}
	}
	return c.CloseWrite()
}

// verify reads exactly n bytes of the stream, then EOF.
func (st *stream) verify(c net.Conn, n int64) error {
	buf := make([]byte, 256<<10)
	want := st.block
	var off int64
	for {
		m, err := c.Read(buf)
		for j := 0; j < m; {
			o := off + int64(j)
			q := int(o % blockSize)
			binary.LittleEndian.PutUint64(want[:], uint64(o%streamSize/blockSize))
			k := min(m-j, blockSize-q)
			if !bytes.Equal(buf[j:j+k], want[q:q+k]) {
				return fmt.Errorf("the bytes from %d to %d differ", o, o+int64(k))
			}
			j += k
		}
		off += int64(m)
		if err == io.EOF {
			if off != n {
				return fmt.Errorf("got %d bytes, want %d", off, n)
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}

type connResult struct {
	Name   string    `json:"name"`
	Rate   float64   `json:"connections_per_second"`
	CPUus  float64   `json:"server_cpu_us_per_connection"`
	Ratio  float64   `json:"ratio_netkit_over_this"`
	All    []float64 `json:"all_connections_per_second"`
	Errors []int64   `json:"errors"`
}

// connBench runs `netkit bench echo --fresh` against each server: a new
// connection for every 64-byte request, workers at a time, each echo
// checked, for d after a warm-up of half a second. The load generator is
// netkit's epoll engine, which spends less of the shared two cores than
// a goroutine per connection would. The server's CPU time is taken over
// the whole client run and divided by every connection the client
// completed, warm-up included.
func connBench(netkit string, cs []contender, addr string, rounds int, d time.Duration, workers int) []connResult {
	rates := make([][]float64, len(cs))
	cpus := make([][]float64, len(cs))
	errs := make([][]int64, len(cs))
	for r := range rounds {
		for k := range cs {
			i := (r + k) % len(cs)
			cmd := start(cs[i], addr)
			cpu0 := proc.CPUSeconds(cmd.Process.Pid)
			cli := exec.Command(netkit, "bench", "echo", "tcp://"+addr, "--fresh", "-c", strconv.Itoa(workers),
				"-s", "64", "-d", d.String(), "--warmup", "500ms", "--json")
			cli.Stderr = os.Stderr
			out, _ := cli.Output() // exit 1 on errors still prints the result
			cpu := proc.CPUSeconds(cmd.Process.Pid) - cpu0
			proc.Stop(cmd)
			var res struct {
				All    uint64  `json:"requests_with_warmup"`
				Rate   float64 `json:"requests_per_second"`
				Errors int64   `json:"errors"`
				First  string  `json:"first_error"`
			}
			if err := json.Unmarshal(out, &res); err != nil {
				fail("%s: netkit bench echo printed %q: %v", cs[i].name, out, err)
			}
			rates[i] = append(rates[i], res.Rate)
			cpus[i] = append(cpus[i], cpu/float64(max(res.All, 1))*1e6)
			errs[i] = append(errs[i], res.Errors)
			note := ""
			if res.Errors > 0 {
				note = fmt.Sprintf(" (%d errors, first: %s)", res.Errors, res.First)
			}
			fmt.Fprintf(os.Stderr, "connrate %-16s round %d: %8.0f conn/s, %.1f us CPU/conn%s\n", cs[i].name, r+1, rates[i][len(rates[i])-1], cpus[i][len(cpus[i])-1], note)
			time.Sleep(200 * time.Millisecond)
		}
	}
	var res []connResult
	for i, c := range cs {
		res = append(res, connResult{Name: c.name, Rate: proc.Median(rates[i]), CPUus: proc.Median(cpus[i]), All: rates[i], Errors: errs[i]})
	}
	for i := range res {
		res[i].Ratio = res[0].Rate / res[i].Rate
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "connection rate (%d at a time, 64 B echo verified)\tconn/s\tserver CPU us/conn\tnetkit is x faster\t\n", workers)
	for _, r := range res {
		fmt.Fprintf(tw, "%s\t%.0f\t%.1f\t%.2f\t\n", r.Name, r.Rate, r.CPUus, r.Ratio)
	}
	tw.Flush()
	return res
}

// The contenders' configurations: a gateway with the usual shape (default
// deny, one rule allowing the clients), and HAProxy in TCP mode with
// splicing forced both ways (splice-auto spliced less and cost 1.25 CPU
// s/GiB) on one thread (one flow needs no more), as a power user runs it.
const (
	gatewayConfig = `default = "deny"
[[forward]]
name = "bench"
proto = "tcp"
listen = "127.0.0.1:9001"
to = ["127.0.0.1:9000"]
[[rule]]
action = "allow"
source = ["127.0.0.0/8"]
`
	haproxyConfig = `global
	maxconn 4000
	nbthread 1
defaults
	mode tcp
	option splice-request
	option splice-response
	timeout connect 5s
	timeout client 120s
	timeout server 120s
listen fwd
	bind 127.0.0.1:9001
	server s1 127.0.0.1:9000
`
)

// nginxConfig is nginx's stream module (libnginx-mod-stream) with 256
// KiB buffers, in one process (master_process off), so that /proc/PID/stat
// holds all its CPU time; nginx has no splice for streams.
const nginxConfig = `load_module /usr/lib/nginx/modules/ngx_stream_module.so;
daemon off;
master_process off;
worker_processes 1;
pid DIR/nginx.pid;
error_log stderr;
events { worker_connections 4096; }
stream {
	server {
		listen 127.0.0.1:9001 reuseport;
		proxy_pass 127.0.0.1:9000;
		proxy_buffer_size 256k;
	}
}
`

func writeConfig(dir, name, body string) string {
	p := dir + "/" + name
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		fail("%v", err)
	}
	return p
}

// selfCPU is this process's user and system time: the source's and the
// sink's.
func selfCPU() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "sockbench: "+format+"\n", args...)
	os.Exit(1)
}
