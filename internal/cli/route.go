package cli

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"

	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/route"
	"github.com/spf13/cobra"
)

type routeOptions struct {
	table string // --table FILE
	all   bool
	v4    bool
	v6    bool
}

func (o *routeOptions) load() ([]route.Route, error) {
	if o.table == "" {
		return route.System()
	}
	f, err := os.Open(o.table)
	if err != nil {
		return nil, inputError(fmt.Errorf("--table: %w", err))
	}
	defer f.Close()
	rs, err := route.ParseTable(f, o.table)
	if err != nil {
		return nil, inputError(err)
	}
	return rs, nil
}

func newRouteCmd(a *app) *cobra.Command {
	var o routeOptions
	cmd := &cobra.Command{
		Use:   "route",
		Short: "The routing tables: where packets go (ip route)",
		Long: `Print the kernel's IPv4 and IPv6 routing tables: destination, gateway,
interface, metric and preferred source. The main table by default; --all
adds the local table and the others. --table FILE reads a table written as
"ip route" prints it instead.

"netkit route get ADDR" tells which route a packet to ADDR takes, by
longest-prefix match as the kernel does.`,
		Example: `  netkit route
  netkit route -4 --all
  netkit route get 192.0.2.7
  ip route show > t.txt; netkit route get 203.0.113.9 --table t.txt`,
		GroupID: groupNetwork,
		Args:    noArgs,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			if o.v4 && o.v6 {
				return usageError("-4 and -6 exclude each other; give neither for both")
			}
			rs, err := o.load()
			if err != nil {
				return err
			}
			res := routesResult{Routes: []route.Route{}}
			for _, r := range rs {
				if !o.all && r.Table != route.TableMain || o.v4 && !r.Dst.Addr().Is4() || o.v6 && r.Dst.Addr().Is4() {
					continue
				}
				res.Routes = append(res.Routes, r)
			}
			return a.render(res)
		}),
	}
	f := cmd.PersistentFlags()
	f.StringVar(&o.table, "table", "", "read the routes from FILE (ip route output) instead of the kernel")
	cmd.Flags().BoolVar(&o.all, "all", false, "every table, not only main")
	cmd.Flags().BoolVarP(&o.v4, "ipv4", "4", false, "IPv4 routes only")
	cmd.Flags().BoolVarP(&o.v6, "ipv6", "6", false, "IPv6 routes only")

	get := &cobra.Command{
		Use:   "get ADDR...",
		Short: "Which route a packet to ADDR takes (longest-prefix match)",
		Example: `  netkit route get 192.0.2.7
  netkit route get 2001:db8::1 --json`,
		Args: minArgs(1, "at least one ADDR"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			rs, err := o.load()
			if err != nil {
				return err
			}
			tab := route.NewTable(rs)
			var res routeGetResult
			missing := false
			for _, s := range args {
				dst, err := netip.ParseAddr(s)
				if err != nil {
					return inputError(fmt.Errorf("invalid address %q: want an IPv4 or IPv6 address, such as 192.0.2.1 or 2001:db8::1", s))
				}
				r, ok := tab.Lookup(dst)
				v := routeGetView{Destination: s}
				if ok {
					r := r
					v.Route = &r
					v.Via = r.String()
					v.Delivery = route.Deliver(r, dst)
					v.DirectlyConnected = v.Delivery == route.Direct
					if v.Delivery == route.Refused || v.Delivery == route.Nowhere {
						missing = true // sent nowhere: a failure, as "no route" is
					}
					if o.table == "" {
						if src := route.Source(r, dst); src.IsValid() {
							v.Source = src.String()
						}
					}
				} else {
					missing = true
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
	cmd.AddCommand(get)
	return cmd
}

type routesResult struct {
	Routes []route.Route `json:"routes"`
}

func (r routesResult) writeHuman(w io.Writer, st textui.Style) error {
	t := textui.NewTable("DESTINATION", "GATEWAY", "IFACE", "METRIC", "SOURCE", "TYPE", "TABLE").AlignRight(3)
	for _, x := range r.Routes {
		dst := x.Dst.String()
		if x.Dst.Bits() == 0 {
			dst = "default"
		}
		gw := "-"
		if x.Gateway.IsValid() {
			gw = x.Gateway.String()
		}
		src := "-"
		if x.Src.IsValid() {
			src = x.Src.String()
		}
		t.Add(dst, gw, dash(x.Iface), strconv.Itoa(x.Metric), src, string(x.Type), route.TableName(x.Table))
	}
	return t.Write(w, st)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
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
		case v.DirectlyConnected:
			line = fmt.Sprintf("%s: directly connected on %s (%s)", v.Destination, v.Route.Iface, v.Route.Dst)
		default:
			line = fmt.Sprintf("%s: via gateway %s on %s (route %s)", v.Destination, v.Route.Gateway, v.Route.Iface, routeDst(v.Route.Dst))
		}
		if v.Source != "" {
			line += ", from " + v.Source
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

func routeDst(p netip.Prefix) string {
	if p.Bits() == 0 {
		return "default"
	}
	return p.String()
}
