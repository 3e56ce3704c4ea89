package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/impair"
	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/spf13/cobra"
)

type impairOptions struct {
	listen, to   string
	spec         impair.Spec
	stall, idle  time.Duration
	logFile, api string
	seed         uint64
	also         []string
	followPort   bool
}

func newImpairCmd(a *app) *cobra.Command {
	var o impairOptions
	cmd := &cobra.Command{
		Use:   "impair --listen ENDPOINT --to ENDPOINT [FAULT...]",
		Short: "A broken network on purpose: loss, delay, reordering, a bottleneck; toxiproxy's API for TCP",
		Long: `Relay UDP datagrams from clients at --listen to the server at --to and back,
through a path that misbehaves as the flags say (the kernel here has no
netem; this is netem in user space). Each client gets its own socket
towards the server; each direction is one link that every client crosses.

Faults apply both ways unless --only up (clients to server) or --only down.
Probabilities are percentages (5%) or fractions (0.05). --rate makes a
bottleneck of that many bits per second with a tail-drop queue of --queue
bytes, the loss real congestion makes. --drop scripts losses: 13 drops
datagram 13, first:2 the first two, match:TEXT those that contain TEXT.
--down 2s@10s cuts the link for two seconds from the tenth.

Every random choice comes from --seed, so the same traffic gives the same
faults; --log FILE records each decision. The counters are printed when it
stops; --json prints events and the counters as JSON lines.

With tcp:// endpoints it relays TCP connections through toxiproxy's toxics
instead: --delay and --jitter (latency), --rate (bandwidth), --slice SIZE
(writes cut small), --limit BYTES, --stall D (data stops; closed after D,
never if 0), --reset-after D (RST), --slow-close D. --api ADDR serves
toxiproxy's HTTP API (proxies and toxics, changed while connections are
open), so toxiproxy's clients can drive netkit; beyond loopback it needs a
token in NETKIT_IMPAIR_TOKEN. --api alone, without endpoints, serves an
empty toxiproxy.`,
		Example: `  netkit impair --listen udp://127.0.0.1:9000 --to udp://127.0.0.1:9001 --loss 5% --delay 20ms --jitter 5ms --seed 7
  netkit impair --listen udp://127.0.0.1:9000 --to udp://127.0.0.1:9001 --drop 13 --only up
  netkit impair --listen udp://127.0.0.1:9000 --to udp://127.0.0.1:9001 --rate 50M --queue 64K --delay 10ms
  netkit impair --listen udp://127.0.0.1:9000 --to udp://127.0.0.1:9001 --ge 1%,10% --down 3s@5s --log faults.txt
  netkit impair --listen tcp://127.0.0.1:8080 --to tcp://127.0.0.1:80 --delay 100ms --rate 1M --api 127.0.0.1:8474
  netkit impair --api 127.0.0.1:8474`,
		GroupID: groupTransport,
		Args:    noArgs,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return runImpair(ctx, a, o)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "", "the udp:// `ENDPOINT` clients send to")
	f.StringVar(&o.to, "to", "", "the server's udp:// `ENDPOINT`")
	f.StringVar(&o.spec.Loss, "loss", "", "lose datagrams at random with this probability (5%)")
	f.StringVar(&o.spec.Correlation, "correlation", "", "with --loss, lean each draw on the last (netem's correlation) to make bursts")
	f.StringVar(&o.spec.GE, "ge", "", "Gilbert-Elliott bursty loss: `P,R[,LOSS-BAD[,LOSS-GOOD]]`")
	f.DurationVar(&o.spec.Delay, "delay", 0, "delay every datagram this long")
	f.DurationVar(&o.spec.Jitter, "jitter", 0, "vary the delay by up to this much (uniform), or this deviation with --normal")
	f.BoolVar(&o.spec.Normal, "normal", false, "draw the jitter from a normal distribution")
	f.StringVar(&o.spec.Reorder, "reorder", "", "hold this share of datagrams back by --reorder-gap, so later ones overtake")
	f.DurationVar(&o.spec.ReorderGap, "reorder-gap", 10*time.Millisecond, "how long a reordered datagram is held back")
	f.StringVar(&o.spec.Duplicate, "duplicate", "", "deliver this share of datagrams twice")
	f.StringVar(&o.spec.Corrupt, "corrupt", "", "flip one bit in this share of datagrams")
	f.StringVar(&o.spec.Rate, "rate", "", "a bottleneck of this many bits per second (50M)")
	f.StringVar(&o.spec.Queue, "queue", "64K", "with --rate, the bottleneck's queue in bytes; more is dropped at the tail")
	f.IntVar(&o.spec.MTU, "mtu", 0, "drop datagrams larger than this")
	f.StringArrayVar(&o.spec.Down, "down", nil, "cut the link, as `DURATION@START` (2s@10s; repeatable)")
	f.StringArrayVar(&o.spec.Drops, "drop", nil, "drop on purpose: `N`, first:N or match:TEXT[*TIMES] (repeatable)")
	f.StringVar(&o.spec.Only, "only", "both", "impair only one direction: up (to the server) or down")
	f.Uint64Var(&o.seed, "seed", 1, "the seed of every random choice")
	f.StringVar(&o.logFile, "log", "", "write each decision to `FILE` (- for stdout)")
	f.DurationVar(&o.idle, "idle", time.Minute, "forget a client after this long without datagrams")
	f.StringArrayVar(&o.also, "also", nil, "UDP: relay `LISTEN=TO` too, over the same path (one bottleneck for both; repeatable)")
	f.BoolVar(&o.followPort, "follow-port", false, "UDP: send to the port the server last answered from (TFTP answers from a port of its own)")
	f.StringVar(&o.spec.Slice, "slice", "", "TCP: cut writes into pieces of about this `SIZE`")
	f.StringVar(&o.spec.Limit, "limit", "", "TCP: close a connection after this many `BYTES` each way")
	f.DurationVar(&o.stall, "stall", -1, "TCP: let nothing through, and close after this long (0: never)")
	f.DurationVar(&o.spec.ResetAfter, "reset-after", 0, "TCP: reset each connection (RST) after this long")
	f.DurationVar(&o.spec.SlowClose, "slow-close", 0, "TCP: pass each close on this much later")
	f.StringVar(&o.api, "api", "", "serve toxiproxy's HTTP API on this `ADDR` (TCP proxies)")
	return cmd
}

// specError names the flag a fault description came from.
func specError(err error) error {
	if se, ok := errors.AsType[*impair.SpecError](err); ok {
		return inputError(fmt.Errorf("--%s: %w", se.Field, se.Err))
	}
	return inputError(err)
}

// setStall reads --stall: negative for none, 0 for forever.
func (o *impairOptions) setStall() {
	o.spec.Stall, o.spec.StallForever = max(o.stall, 0), o.stall == 0
}

func runImpair(ctx context.Context, a *app, o impairOptions) error {
	if o.listen == "" && o.to == "" && o.api != "" {
		return runImpairTCP(ctx, a, o, nil, nil)
	}
	if o.listen == "" || o.to == "" {
		return usageError("netkit impair needs --listen ENDPOINT and --to ENDPOINT (or --api ADDR)")
	}
	listen, err := parseEndpoint(o.listen)
	if err != nil {
		return err
	}
	to, err := parseEndpoint(o.to)
	if err != nil {
		return err
	}
	stream := func(e endpoint.Endpoint) bool {
		return e.Scheme == endpoint.TCP || e.Scheme == endpoint.TCP4 || e.Scheme == endpoint.TCP6
	}
	if stream(listen) && stream(to) {
		return runImpairTCP(ctx, a, o, &listen, &to)
	}
	if !listen.IsPacket() || !to.IsPacket() {
		return usageError("netkit impair relays UDP (udp://) or TCP (tcp://), the same on both sides; not %s to %s", listen, to)
	}
	if o.api != "" {
		return usageError("--api is for TCP proxies (tcp:// endpoints)")
	}
	o.setStall()
	p := &impair.Proxy{To: to.Address(), Seed: o.seed, Idle: o.idle, FollowPort: o.followPort}
	if err := o.spec.Apply(p); err != nil {
		return specError(err)
	}
	out := &lockedWriter{w: a.io.Out}
	if o.logFile != "" {
		var lw io.Writer = out
		if o.logFile != "-" {
			file, err := os.Create(o.logFile)
			if err != nil {
				return inputError(fmt.Errorf("--log: %w", err))
			}
			defer file.Close()
			lw = &lockedWriter{w: file}
		}
		p.Decided = func(dir string, client netip.AddrPort, d impair.Decision) {
			fmt.Fprintf(lw, "%s %s %s\n", dir, client, d)
		}
	}
	routes := []impair.Route{{Listen: listen, To: to}}
	for _, x := range o.also {
		r, err := impair.ParseRoute(x)
		if err != nil {
			return usageError("invalid --also: %v", err)
		}
		routes = append(routes, r)
	}
	stats, err := impair.ServeRoutes(ctx, routes, p, func(r impair.Route, addr net.Addr) {
		if a.json {
			writeJSONLine(out, struct {
				Event    string `json:"event"`
				Time     string `json:"time"`
				Endpoint string `json:"endpoint"`
				To       string `json:"to"`
			}{"listening", nowStamp(), "udp://" + addr.String(), r.To.String()})
		} else {
			fmt.Fprintf(out, "impairing udp://%s -> %s\n", addr, r.To)
		}
	})
	if err != nil {
		if _, ok := errors.AsType[*impair.ParseError](err); ok {
			return inputError(err)
		}
		return err
	}
	st := impairStats(stats)
	if a.json {
		return writeJSONLine(out, struct {
			Event string `json:"event"`
			Time  string `json:"time"`
			impair.Stats
		}{"stats", nowStamp(), stats})
	}
	return st.writeHuman(a.io.Err, a.errStyle())
}

type impairStats impair.Stats

func (s impairStats) writeHuman(w io.Writer, st textui.Style) error {
	t := textui.NewTable("", "RECEIVED", "DELIVERED", "LOST", "QUEUE", "TOO BIG", "DOWN", "SCRIPT", "DUP", "CORRUPT", "REORDER").AlignRight(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	for _, d := range []struct {
		name string
		c    impair.Counters
	}{{"up", s.Up}, {"down", s.Down}} {
		c := d.c
		t.Add(d.name, fmt.Sprint(c.Received), fmt.Sprint(c.Delivered), fmt.Sprint(c.Lost), fmt.Sprint(c.QueueFull), fmt.Sprint(c.TooBig),
			fmt.Sprint(c.Down), fmt.Sprint(c.Scripted), fmt.Sprint(c.Duplicated), fmt.Sprint(c.Corrupted), fmt.Sprint(c.Reordered))
	}
	if err := t.Write(w, st); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d client session%s (%d datagrams refused at the session limit)\n", s.Sessions, plural(int(s.Sessions)), s.Refused)
	return err
}
