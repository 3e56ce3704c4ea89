package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/impair"
)

// toxics reads the TCP fault flags as toxiproxy toxics, on the streams
// --only picks.
func (o impairOptions) toxics() ([]impair.Toxic, error) {
	streams := map[string][]string{"both": {"upstream", "downstream"}, "up": {"upstream"}, "down": {"downstream"}}[o.only]
	if streams == nil {
		return nil, usageError("invalid --only %q: up, down or both", o.only)
	}
	for name, set := range map[string]bool{"loss": o.loss != "", "correlation": o.correlation != "", "ge": o.ge != "",
		"reorder": o.reorder != "", "duplicate": o.duplicate != "", "corrupt": o.corrupt != "", "mtu": o.mtu != 0,
		"down": len(o.down) > 0, "drop": len(o.drops) > 0} {
		if set {
			return nil, usageError("--%s applies to UDP: over TCP the kernel resends what is lost, so it cannot be shown; use udp:// endpoints", name)
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Milliseconds()) }
	var ts []impair.Toxic
	add := func(typ string, attrs map[string]any) {
		for _, s := range streams {
			ts = append(ts, impair.Toxic{Type: typ, Stream: s, Toxicity: 1, Attributes: attrs})
		}
	}
	if o.delay > 0 || o.jitter > 0 {
		add("latency", map[string]any{"latency": ms(o.delay), "jitter": ms(o.jitter)})
	}
	if o.rate != "" {
		bps, err := impair.ParseRate(o.rate)
		if err != nil {
			return nil, inputError(fmt.Errorf("--rate: %w", err))
		}
		add("bandwidth", map[string]any{"rate": max(float64(int64(bps/8000)), 1)})
	}
	if o.slice != "" {
		n, err := impair.ParseSize(o.slice)
		if err != nil {
			return nil, inputError(fmt.Errorf("--slice: %w", err))
		}
		add("slicer", map[string]any{"average_size": float64(n), "size_variation": float64(n / 2), "delay": 0.0})
	}
	if o.limit != "" {
		n, err := impair.ParseSize(o.limit)
		if err != nil {
			return nil, inputError(fmt.Errorf("--limit: %w", err))
		}
		add("limit_data", map[string]any{"bytes": float64(n)})
	}
	for _, x := range []struct {
		set  bool
		typ  string
		attr string
		d    time.Duration
	}{{o.stall >= 0, "timeout", "timeout", o.stall}, {o.resetAfter > 0, "reset_peer", "timeout", o.resetAfter}, {o.slowClose > 0, "slow_close", "delay", o.slowClose}} {
		if x.set {
			add(x.typ, map[string]any{x.attr: ms(x.d)})
		}
	}
	for i := range ts {
		if err := ts[i].Check(); err != nil {
			return nil, inputError(err)
		}
		ts[i].Name = ts[i].Type + "_" + ts[i].Stream
	}
	return ts, nil
}

// runImpairTCP relays TCP through toxics, and serves toxiproxy's API
// with --api; with no endpoints, the API alone.
func runImpairTCP(ctx context.Context, a *app, o impairOptions, listen, to *endpoint.Endpoint) error {
	token := os.Getenv("NETKIT_IMPAIR_TOKEN")
	api := &impair.API{Token: token}
	defer api.Close()
	out := &lockedWriter{w: a.io.Out}
	say := func(event, text, ep string) {
		if a.json {
			writeJSONLine(out, map[string]string{"event": event, "time": nowStamp(), "endpoint": ep})
		} else {
			fmt.Fprintln(out, text)
		}
	}
	if listen != nil {
		ts, err := o.toxics()
		if err != nil {
			return err
		}
		p, err := api.Create("netkit", listen.Address(), to.Address(), true)
		if err != nil {
			return fmt.Errorf("listen %s: %w", listen, err)
		}
		for _, t := range ts {
			if _, err := p.AddToxic(t); err != nil {
				return inputError(err)
			}
		}
		lst := p.Toxics()
		say("listening", fmt.Sprintf("impairing tcp://%s -> %s with %d toxic%s (proxy \"netkit\")", p.Addr(), to, len(lst), plural(len(lst))), "tcp://"+p.Addr())
	}
	if o.api == "" {
		<-ctx.Done()
		return nil
	}
	err := impair.ServeAPI(ctx, o.api, api, func(addr net.Addr) {
		say("api", fmt.Sprintf("toxiproxy API on http://%s", addr), "http://"+addr.String())
	})
	if _, ok := errors.AsType[*impair.ParseError](err); ok {
		return usageError("--api %s: %v (set NETKIT_IMPAIR_TOKEN)", o.api, err)
	}
	return err
}
