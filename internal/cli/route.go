package cli

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/route"
	"github.com/spf13/cobra"
)

type routeOptions struct {
	table string // --table FILE
	rules string // --rules FILE
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

"netkit route get ADDR" tells which route a packet to ADDR takes, as the
kernel chooses it: the policy rules (ip rule) in order, and in the table a
rule names the longest matching prefix, then the lowest metric. A
multipath route lists its hops (the kernel picks one per flow by a hash).
"netkit route rules" lists the rules. With --table, the rules come from
--rules FILE, or are the default ones (local, main, default).`,
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
	f.StringVar(&o.table, "table", "", "read the routes from FILE (ip route show table all output) instead of the kernel")
	f.StringVar(&o.rules, "rules", "", "read the policy rules from FILE (ip rule output) instead of the kernel")
	cmd.Flags().BoolVar(&o.all, "all", false, "every table, not only main")
	cmd.Flags().BoolVarP(&o.v4, "ipv4", "4", false, "IPv4 routes only")
	cmd.Flags().BoolVarP(&o.v6, "ipv6", "6", false, "IPv6 routes only")

	cmd.AddCommand(newRouteGetCmd(a, &o), newRouteRulesCmd(a, &o))
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
		iface := x.Iface
		if len(x.Nexthops) > 0 {
			var gws, ifs []string
			for _, n := range x.Nexthops {
				gws, ifs = append(gws, n.Gateway.String()), append(ifs, n.Iface)
			}
			gw, iface = strings.Join(gws, ","), strings.Join(ifs, ",")
		}
		t.Add(dst, gw, dash(iface), strconv.Itoa(x.Metric), src, string(x.Type), route.TableName(x.Table))
	}
	return t.Write(w, st)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func routeDst(p netip.Prefix) string {
	if p.Bits() == 0 {
		return "default"
	}
	return p.String()
}
