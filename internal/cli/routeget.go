package cli

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"

	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/route"
	"github.com/spf13/cobra"
)

// loadRules reads --rules, or the kernel's rules when neither --table nor
// --rules is given; with --table alone, the default rules (nil).
func (o *routeOptions) loadRules() ([]route.Rule, error) {
	switch {
	case o.rules != "":
		f, err := os.Open(o.rules)
		if err != nil {
			return nil, inputError(fmt.Errorf("--rules: %w", err))
		}
		defer f.Close()
		rs, err := route.ParseRules(f, o.rules)
		if err != nil {
			return nil, inputError(err)
		}
		return rs, nil
	case o.table == "":
		return route.SystemRules()
	}
	return nil, nil
}

func newRouteGetCmd(a *app, o *routeOptions) *cobra.Command {
	var from string
	cmd := &cobra.Command{
		Use:   "get ADDR...",
		Short: "Which route a packet to ADDR takes (policy rules, longest-prefix match)",
		Example: `  netkit route get 192.0.2.7
  netkit route get 8.8.8.8 --from 198.51.100.10
  netkit route get 2001:db8::1 --json`,
		Args: minArgs(1, "at least one ADDR"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			var src netip.Addr
			if from != "" {
				var err error
				if src, err = netip.ParseAddr(from); err != nil {
					return usageError("invalid --from %q: an IPv4 or IPv6 address", from)
				}
			}
			rs, err := o.load()
			if err != nil {
				return err
			}
			rules, err := o.loadRules()
			if err != nil {
				return err
			}
			tab := route.NewPolicyTable(rs, rules)
			var res routeGetResult
			missing := false
			for _, s := range args {
				dst, err := netip.ParseAddr(s)
				if err != nil {
					return inputError(fmt.Errorf("invalid address %q: want an IPv4 or IPv6 address, such as 192.0.2.1 or 2001:db8::1", s))
				}
				r, rule, ok := tab.Resolve(dst, src)
				v := routeGetView{Destination: s}
				if !ok {
					missing = true
					res.Results = append(res.Results, v)
					continue
				}
				v.Route, v.Via = &r, r.String()
				if rule.Priority != 0 && rule.Priority < 32766 || rule.Action != "lookup" {
					v.Rule = rule.String()
				}
				v.Delivery = route.Deliver(r, dst)
				v.DirectlyConnected = v.Delivery == route.Direct && len(r.Nexthops) == 0
				if v.Delivery == route.Refused || v.Delivery == route.Nowhere {
					missing = true // sent nowhere: a failure, as "no route" is
				}
				if src.IsValid() {
					v.Source = src.String()
				} else if o.table == "" {
					if s := route.Source(r, dst); s.IsValid() {
						v.Source = s.String()
					}
				}
				res.Results = append(res.Results, v)
			}
			if err := a.render(res); err != nil {
				return err
			}
			if missing {
				return errSilentFailure
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&from, "from", "", "the packet's source `ADDR` (rules can choose by it)")
	return cmd
}

func newRouteRulesCmd(a *app, o *routeOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "rules",
		Short:   "The policy routing rules, in the order the kernel tries them (ip rule)",
		Example: "  netkit route rules\n  netkit route rules --rules saved-rules.txt --json",
		Args:    noArgs,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			rules, err := o.loadRules()
			if err != nil {
				return err
			}
			if rules == nil {
				rules = append(route.DefaultRules(false), route.DefaultRules(true)...)
			}
			return a.render(rulesResult{Rules: rules})
		}),
	}
}

type rulesResult struct {
	Rules []route.Rule `json:"rules"`
}

func (r rulesResult) writeHuman(w io.Writer, st textui.Style) error {
	for _, x := range r.Rules {
		fam := "ipv4"
		if x.IPv6 {
			fam = "ipv6"
		}
		if _, err := fmt.Fprintf(w, "%s %s\n", fam, x); err != nil {
			return err
		}
	}
	return nil
}

type routeGetResult struct {
	Results []routeGetView `json:"results"`
}

type routeGetView struct {
	Destination       string         `json:"destination"`
	Route             *route.Route   `json:"route"`
	Via               string         `json:"summary,omitempty"`
	Delivery          route.Delivery `json:"delivery,omitempty"`
	DirectlyConnected bool           `json:"directly_connected"`
	Source            string         `json:"source,omitempty"`
	Rule              string         `json:"rule,omitempty"` // when not one of the default rules
}

func (r routeGetResult) writeHuman(w io.Writer, st textui.Style) error {
	for _, v := range r.Results {
		var line string
		switch {
		case v.Route == nil:
			line = fmt.Sprintf("%s: %s", v.Destination, st.Red("no route (the network is unreachable)"))
		case v.Delivery == route.Local:
			line = fmt.Sprintf("%s: this host (local table), delivered over lo", v.Destination)
		case v.Delivery == route.Refused:
			line = fmt.Sprintf("%s: %s by route %s: not sent", v.Destination, st.Red(string(v.Route.Type)), v.Route.Dst)
		case v.Delivery == route.Nowhere:
			line = fmt.Sprintf("%s: %s", v.Destination, st.Red("the unspecified address is no destination"))
		case v.Delivery == route.Broadcast:
			line = fmt.Sprintf("%s: broadcast to every host on %s (never via a gateway)", v.Destination, dash(v.Route.Iface))
		case v.Delivery == route.Multicast:
			line = fmt.Sprintf("%s: multicast on %s (never via a gateway)", v.Destination, dash(v.Route.Iface))
		case len(v.Route.Nexthops) > 0:
			var hops []string
			for _, n := range v.Route.Nexthops {
				hops = append(hops, fmt.Sprintf("%s on %s (weight %d)", n.Gateway, n.Iface, n.Weight))
			}
			line = fmt.Sprintf("%s: via one of %s; the kernel picks one per flow by a hash of its addresses (route %s)", v.Destination, strings.Join(hops, ", "), routeDst(v.Route.Dst))
		case v.DirectlyConnected:
			line = fmt.Sprintf("%s: directly connected on %s (%s)", v.Destination, v.Route.Iface, v.Route.Dst)
		default:
			line = fmt.Sprintf("%s: via gateway %s on %s (route %s)", v.Destination, v.Route.Gateway, v.Route.Iface, routeDst(v.Route.Dst))
		}
		if v.Source != "" {
			line += ", from " + v.Source
		}
		if v.Rule != "" {
			line += ", by rule " + strings.ReplaceAll(v.Rule, "\t", " ")
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
		if v.Route != nil {
			if _, err := fmt.Fprintln(w, "  "+st.Dim(v.Via)); err != nil {
				return err
			}
		}
	}
	return nil
}
