package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/impair"
)

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
		o.setStall()
		ts, err := o.spec.Toxics()
		if err != nil {
			return specError(err)
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
