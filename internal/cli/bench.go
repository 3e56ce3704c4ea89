package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/perf"
	"github.com/spf13/cobra"
)

func newBenchCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "bench",
		Short:   "Load generators for servers",
		GroupID: groupOther,
		Args:    noArgs,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return usageError("netkit bench needs a subcommand: echo")
		}),
	}
	var o perf.EchoConfig
	echo := &cobra.Command{
		Use:   "echo ENDPOINT",
		Short: "Request/response load against an echo server, every byte checked",
		Long: `Open -c connections to an echo server, then on each keep --depth requests of
-s bytes in flight for -d, after a --warmup that is not counted; or, with
--fresh, open a new connection for every request, -c at a time, and close
it after the echo. Every echo is checked byte for byte against its request.
On Linux, tcp and unix targets are driven by --loops epoll loops (one per
processor), which leaves the server as much of the machine as it can.
Prints requests per second, MB/s (payload, one way, 10^6 bytes) and
latency percentiles (p50, p99, p99.9, max); exits 1 if any echo was wrong
or any connection failed.`,
		Example: `  netkit bench echo tcp://127.0.0.1:7 -c 100 -d 5s
  netkit bench echo 127.0.0.1:12345 -c 1000 -s 64 --depth 4 --json`,
		Args: exactArgs(1, "an ENDPOINT"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			e, err := parseEndpoint(args[0])
			if err != nil {
				return err
			}
			if e.IsPacket() || e.IsStdio() {
				return usageError("netkit bench echo needs a stream endpoint (tcp, tls, unix), not %q", args[0])
			}
			if o.Conns < 1 || o.Payload < 1 || o.Depth < 1 || o.Duration <= 0 || o.Loops < 0 {
				return usageError("-c, -s and --depth must be at least 1, -d positive and --loops not negative")
			}
			if o.Fresh && o.Depth > 1 {
				return usageError("--fresh sends one request per connection: it cannot take --depth %d", o.Depth)
			}
			o.Target = e
			res, err := perf.RunEcho(ctx, o)
			if err != nil {
				return err
			}
			if err := a.render(echoView(res)); err != nil {
				return err
			}
			if res.Errors > 0 {
				return errSilentFailure
			}
			return nil
		}),
	}
	f := echo.Flags()
	f.IntVarP(&o.Conns, "conns", "c", 1, "connections")
	f.IntVarP(&o.Payload, "size", "s", 64, "bytes per request")
	f.IntVar(&o.Depth, "depth", 1, "requests in flight per connection (pipelining)")
	f.DurationVarP(&o.Duration, "duration", "d", 10*time.Second, "how long to measure")
	f.DurationVar(&o.Warmup, "warmup", time.Second, "how long to run before measuring (-1s for none)")
	f.BoolVar(&o.Fresh, "fresh", false, "a new connection for every request, -c at a time (connection set-up rate)")
	f.IntVar(&o.Loops, "loops", 0, "event loops (threads) driving the connections (default GOMAXPROCS)")
	cmd.AddCommand(echo)
	return cmd
}

type echoView perf.EchoResult

func (r echoView) writeHuman(w io.Writer, st textui.Style) error {
	t := textui.NewTable()
	t.Add("target", r.Target)
	if r.Fresh {
		t.Add("load", fmt.Sprintf("%d at a time, a new connection per %d B request", r.Conns, r.Payload))
	} else {
		t.Add("load", fmt.Sprintf("%d connections, %d B requests, %d in flight each", r.Conns, r.Payload, r.Depth))
	}
	t.Add("requests", fmt.Sprintf("%d in %.2fs", r.Requests, r.Duration.Seconds()))
	t.Add("rate", fmt.Sprintf("%.0f req/s, %.2f MB/s", r.ReqPerSec, r.MBPerSec))
	t.Add("latency", fmt.Sprintf("p50 %v  p99 %v  p99.9 %v  max %v", round(r.P50), round(r.P99), round(r.P999), round(r.Max)))
	errs := fmt.Sprint(r.Errors)
	if r.Errors > 0 {
		errs = st.Red(errs) + " (first: " + r.FirstError + ")"
	}
	t.Add("errors", errs)
	return t.Write(w, st)
}

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(100 * time.Nanosecond)
}
