package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/internal/units"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/perf"
	"github.com/spf13/cobra"
)

func newPerfCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "perf",
		Short: "Throughput and latency of a path, TCP and UDP (as iperf3)",
		Long: `Measure a path between a perf server and a perf client: TCP or UDP
throughput, one way, the other (-R) or both (--bidir), or request/response
latency (--rr). Both ends are netkit; the protocol is netkit's own.`,
		GroupID: groupTransport,
		Args:    noArgs,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return usageError("netkit perf needs a subcommand: server or client")
		}),
	}
	cmd.AddCommand(newPerfServerCmd(a), newPerfClientCmd(a))
	return cmd
}

func newPerfServerCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "server [ENDPOINT]",
		Short: "Answer perf tests, TCP and UDP on one port (default 127.0.0.1:5201)",
		Long: `Listen for perf clients: control and TCP data on the TCP port, UDP data on
the UDP port of the same number. Any number of tests run at once. Prints a
line per test. Runs until interrupted.`,
		Example: `  netkit perf server
  netkit perf server tcp://0.0.0.0:5201`,
		Args: cobra.MaximumNArgs(1),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			ep := "tcp://127.0.0.1:" + strconv.Itoa(perf.DefaultPort)
			if len(args) == 1 {
				ep = args[0]
			}
			e, err := parseEndpoint(ep)
			if err != nil {
				return err
			}
			if e.Scheme != endpoint.TCP && e.Scheme != endpoint.TCP4 && e.Scheme != endpoint.TCP6 {
				return inputError(fmt.Errorf("perf server listens on a tcp endpoint (UDP uses the same port); got %s", e))
			}
			l, err := endpoint.Listen(ctx, e)
			if err != nil {
				return fmt.Errorf("listening on %s: %w", e, err)
			}
			udpNet := strings.Replace(e.Network(), "tcp", "udp", 1)
			pc, err := net.ListenPacket(udpNet, l.Addr().String())
			if err != nil {
				l.Close()
				return fmt.Errorf("listening on udp %s: %w", l.Addr(), err)
			}
			fmt.Fprintf(a.io.Out, "perf server on %s (tcp and udp)\n", l.Addr())
			s := perf.Server{Logger: slog.New(slog.NewTextHandler(a.io.Out, &slog.HandlerOptions{Level: slog.LevelInfo})), SizeProcs: true}
			return s.Serve(ctx, l, pc)
		}),
	}
}

type perfClientOptions struct {
	udp      bool
	seconds  float64
	bytes    string
	streams  int
	reverse  bool
	bidir    bool
	block    string
	bitrate  string
	rr       bool
	interval float64
}

func newPerfClientCmd(a *app) *cobra.Command {
	var o perfClientOptions
	cmd := &cobra.Command{
		Use:   "client ENDPOINT",
		Short: "Run a test against a perf server",
		Long: `Run one test against "netkit perf server" and report every interval and
a summary. Throughput is measured where the data arrives. For UDP (-u) the
receiver counts loss, reordering and duplicates from sequence numbers and
computes jitter as RFC 3550 does; datagrams the receiving host dropped for
want of socket buffer (RcvbufErrors) are reported apart from loss on the
path. UDP sends at -b (default 1M, as iperf3).

Sizes take K, M and G (powers of 1024 for -n and -l, of 1000 for -b).`,
		Example: `  netkit perf client 127.0.0.1:5201
  netkit perf client 127.0.0.1 -P 4 -t 5
  netkit perf client 127.0.0.1 -R -n 1G
  netkit perf client 127.0.0.1 -u -b 100M --json
  netkit perf client 127.0.0.1 --rr -t 3`,
		Args: exactArgs(1, "the server's ENDPOINT"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return runPerfClient(ctx, a, o, args[0])
		}),
	}
	f := cmd.Flags()
	f.BoolVarP(&o.udp, "udp", "u", false, "UDP instead of TCP")
	f.Float64VarP(&o.seconds, "time", "t", 10, "seconds to run (unless -n)")
	f.StringVarP(&o.bytes, "bytes", "n", "", "send this many bytes instead of running for -t (such as 1G)")
	f.IntVarP(&o.streams, "parallel", "P", 1, "parallel streams")
	f.BoolVarP(&o.reverse, "reverse", "R", false, "the server sends, the client receives")
	f.BoolVar(&o.bidir, "bidir", false, "both send at once")
	f.StringVarP(&o.block, "length", "l", "", "bytes per write or datagram (default 256K TCP, 1448 UDP)")
	f.StringVarP(&o.bitrate, "bitrate", "b", "", "bits per second per stream (default 1M for UDP, no cap for TCP)")
	f.BoolVar(&o.rr, "rr", false, "request/response latency instead of throughput")
	f.Float64VarP(&o.interval, "interval", "i", 1, "seconds between reports (0 for none)")
	return cmd
}

// parseSize reads 1500, 64K, 10M, 1G with the given unit base.
func parseSize(flag, s string, base float64) (float64, error) {
	if s == "" {
		return 0, nil
	}
	v, err := units.Parse(s, base)
	if err != nil || v <= 0 {
		return 0, usageError("invalid %s %q: a positive number, optionally with K, M or G", flag, s)
	}
	return v, nil
}

func runPerfClient(ctx context.Context, a *app, o perfClientOptions, server string) error {
	if !strings.Contains(server, "://") && !strings.Contains(strings.TrimPrefix(server, "["), "]:") && strings.Count(server, ":") != 1 {
		server += ":" + strconv.Itoa(perf.DefaultPort) // a bare host
	}
	e, err := parseEndpoint(server)
	if err != nil {
		return err
	}
	if e.Scheme != endpoint.TCP && e.Scheme != endpoint.TCP4 && e.Scheme != endpoint.TCP6 {
		return inputError(fmt.Errorf("perf client takes the server's tcp endpoint (UDP tests use the same port); got %s", e))
	}
	p := perf.Params{Proto: "tcp", Mode: perf.Send, Streams: o.streams}
	if o.udp {
		p.Proto = "udp"
	}
	switch {
	case o.reverse && o.bidir, o.rr && (o.reverse || o.bidir):
		return usageError("-R, --bidir and --rr exclude each other")
	case o.reverse:
		p.Mode = perf.Recv
	case o.bidir:
		p.Mode = perf.Bidir
	case o.rr:
		p.Mode = perf.RR
	}
	if o.seconds <= 0 || o.interval < 0 {
		return usageError("-t must be positive and -i not negative")
	}
	if o.streams < 1 {
		return usageError("invalid -P %d: at least one stream", o.streams)
	}
	n, err := parseSize("-n", o.bytes, 1024)
	if err != nil {
		return err
	}
	if n > 0 {
		p.Bytes = int64(n)
	} else {
		p.Duration = time.Duration(o.seconds * float64(time.Second))
	}
	blk, err := parseSize("-l", o.block, 1024)
	if err != nil {
		return err
	}
	p.Block = int(blk)
	if p.Bitrate, err = parseSize("-b", o.bitrate, 1000); err != nil {
		return err
	}
	if err := p.Check(); err != nil {
		return usageError("%v", err)
	}
	cfg := perf.ClientConfig{Server: e, Params: p, Interval: time.Duration(o.interval * float64(time.Second))}
	if o.interval == 0 {
		cfg.Interval = -1
	}
	if !a.json && cfg.Interval > 0 {
		cfg.OnInterval = func(in perf.Interval) {
			line := fmt.Sprintf("[%6.2f-%6.2f s]", in.Start, in.End)
			if in.SentBytes > 0 || p.Mode == perf.Send {
				line += fmt.Sprintf("  sent %10s  %s", textui.FormatBytes(in.SentBytes), formatBits(in.SentBPS))
			}
			if in.RecvBytes > 0 || p.Mode == perf.Recv {
				line += fmt.Sprintf("  received %10s  %s", textui.FormatBytes(in.RecvBytes), formatBits(in.RecvBPS))
			}
			fmt.Fprintln(a.io.Out, line)
		}
	}
	cfg.SizeProcs = true
	rep, err := perf.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("perf test with %s: %w", e.Address(), err)
	}
	return a.render(perfReport{rep})
}

type perfReport struct{ *perf.Report }

func (r perfReport) writeHuman(w io.Writer, st textui.Style) error {
	p := r.Params
	fmt.Fprintf(w, "%s\n", st.Bold(fmt.Sprintf("%s %s, %d stream%s, %.2f s", strings.ToUpper(p.Proto), p.Mode, p.Streams, plural(p.Streams), r.Seconds)))
	for _, d := range []struct {
		name string
		dir  *perf.Direction
		at   string
	}{{"up", r.Up, "the server"}, {"down", r.Down, "the client"}} {
		if d.dir == nil {
			continue
		}
		x := d.dir
		fmt.Fprintf(w, "  %-5s %s  (%s received by %s in %.2f s; %s sent)\n", d.name, formatBits(x.BPS), textui.FormatBytes(x.RecvBytes), d.at, x.Seconds, textui.FormatBytes(x.SentBytes))
		if len(x.UDP) > 0 {
			var sent, ooo, dup uint64
			for _, s := range x.UDP {
				sent, ooo, dup = sent+s.Sent, ooo+s.OutOfOrder, dup+s.Duplicates
			}
			fmt.Fprintf(w, "        %d datagrams sent, %d lost (%.2f%%), %d out of order, %d duplicates, jitter %.3f ms\n", sent, x.Lost, x.LossPercent, ooo, dup, x.JitterMS)
			if x.RcvbufErrors > 0 {
				fmt.Fprintf(w, "        %d dropped by the receiving host itself (socket buffer full, RcvbufErrors): not loss on the path\n", x.RcvbufErrors)
			}
		}
	}
	if rr := r.RR; rr != nil {
		fmt.Fprintf(w, "  %d transactions, %.0f/s; latency p50 %.1f µs, p99 %.1f µs, p99.9 %.1f µs, max %.1f µs", rr.Transactions, rr.PerSecond, rr.P50us, rr.P99us, rr.P999us, rr.MaxUs)
		if rr.Lost > 0 {
			fmt.Fprintf(w, ", %d lost", rr.Lost)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// formatBits prints a rate in decimal units, as network rates are given.
func formatBits(bps float64) string {
	switch {
	case bps >= 1e9:
		return fmt.Sprintf("%.2f Gbit/s", bps/1e9)
	case bps >= 1e6:
		return fmt.Sprintf("%.2f Mbit/s", bps/1e6)
	case bps >= 1e3:
		return fmt.Sprintf("%.2f kbit/s", bps/1e3)
	}
	return fmt.Sprintf("%.0f bit/s", bps)
}
