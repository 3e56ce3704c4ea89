package cli

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/ipcalc"
	"github.com/netkit-dev/netkit/ipset"
	"github.com/spf13/cobra"
)

func newIPCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ip ADDR|PREFIX|RANGE...",
		Short: "Everything about an address, prefix or range; subnetting and address sets",
		Long: `Tell everything about each address (192.0.2.7, fe80::1%eth0), prefix
(192.0.2.0/24, 192.0.2.0/255.255.255.0, or a host and its network:
192.168.0.186/24) or range (192.0.2.10-192.0.2.20): network, netmask and
wildcard, broadcast, first and last usable host (RFC 3021 /31, RFC 6164 /127),
exact counts, integer, hex and binary forms, reverse DNS name and zones, the
IANA special-purpose registry entry, the historic class or IPv6 scope, and
the IPv4 address inside mapped, 6to4, NAT64 and Teredo addresses.

Parsing is strict: leading zeros in IPv4 octets, netmasks that are not
contiguous, prefix lengths out of range and zones on prefixes exit 2.`,
		Example: `  netkit ip 192.168.0.186/24
  netkit ip 2001:db8::/48 --json
  netkit ip 10.0.0.0/255.255.255.0 ::ffff:192.0.2.1 2002:c000:204::1
  netkit ip split 192.0.2.0/24 --hosts 100,50,20,2
  netkit ip merge list.txt`,
		GroupID: groupNetwork,
		Args:    minArgs(1, "an ADDR, PREFIX or RANGE (or a subcommand: info, merge, diff, intersect, range, contains, split, supernet, nth, random)"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return runIPInfo(a, args)
		}),
	}
	info := &cobra.Command{
		Use:     "info ADDR|PREFIX|RANGE...",
		Short:   "Everything about addresses, prefixes or ranges (the same as netkit ip X)",
		Example: "  netkit ip info 192.0.2.0/26 2001:db8::1",
		Args:    minArgs(1, "an ADDR, PREFIX or RANGE"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return runIPInfo(a, args)
		}),
	}
	cmd.AddCommand(info, newIPMergeCmd(a), newIPSetOpCmd(a, "diff"), newIPSetOpCmd(a, "intersect"),
		newIPRangeCmd(a), newIPContainsCmd(a), newIPSplitCmd(a), newIPSupernetCmd(a), newIPNthCmd(a), newIPRandomCmd(a))
	return cmd
}

// parseEntryArg parses an address, prefix or range argument.
func parseEntryArg(s string) (ipset.Entry, error) {
	e, err := ipset.ParseEntry(s)
	if err != nil {
		return ipset.Entry{}, inputError(err)
	}
	return e, nil
}

type ipInfoResult []ipcalc.Facts

func runIPInfo(a *app, args []string) error {
	var res ipInfoResult
	for _, s := range args {
		e, err := parseEntryArg(s)
		if err != nil {
			return err
		}
		res = append(res, ipcalc.Describe(s, e))
	}
	return a.render(res)
}

func (r ipInfoResult) writeHuman(w io.Writer, st textui.Style) error {
	var b strings.Builder
	for i, f := range r {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(st.Bold(f.Input) + "\n")
		t := textui.NewTable()
		row := func(k, v string) {
			if v != "" {
				t.Add("  "+k, v)
			}
		}
		addr := func(k string, a netip.Addr) {
			if a.IsValid() {
				row(k, a.String())
			}
		}
		addr("address", f.Address)
		if f.Kind == ipcalc.KindRange {
			row("range", f.First.String()+" - "+f.Last.String())
			var ps []string
			for _, p := range f.Prefixes {
				ps = append(ps, p.String())
			}
			row("prefixes", strings.Join(ps, " "))
		} else {
			row("network", fmt.Sprintf("%s/%d", f.Network, *f.PrefixLength))
			if f.Netmask.IsValid() {
				row("netmask", fmt.Sprintf("%s = /%d", f.Netmask, *f.PrefixLength))
			}
			addr("wildcard", f.Wildcard)
			addr("broadcast", f.Broadcast)
			addr("first", f.First)
			addr("last", f.Last)
		}
		row("usable", f.Usable.String())
		row("total", f.Total.String())
		row("integer", f.Integer)
		row("hex", f.Hex)
		row("binary", f.Binary)
		row("reverse", f.ReverseName)
		if len(f.ReverseZones) > 0 {
			z := strings.Join(f.ReverseZones, " ")
			if len(f.ReverseZones) > 4 {
				z = fmt.Sprintf("%s ... %s (%d zones)", f.ReverseZones[0], f.ReverseZones[len(f.ReverseZones)-1], len(f.ReverseZones))
			}
			row("zone", z)
		}
		row("class", f.Class)
		row("scope", f.Scope)
		if f.Type != "" {
			typ := f.Type
			if f.RFC != "" {
				typ += " (" + f.RFC + ")"
			}
			row("type", typ)
		}
		if e := f.Registry; e != nil {
			row("registry", fmt.Sprintf("%s: source %s, destination %s, forwardable %s, globally reachable %s, reserved by protocol %s",
				e.Block, e.Source, e.Destination, e.Forwardable, e.Global, e.ReservedByProtocol))
		}
		row("private", yesNo(f.Private))
		row("global", yesNo(f.Global))
		if e := f.EmbeddedIPv4; e != nil {
			v := fmt.Sprintf("%s (%s)", e.Address, e.How)
			if e.How == "teredo" {
				v = fmt.Sprintf("client %s port %d, server %s (teredo)", e.Address, e.Port, e.TeredoServer)
			}
			row("ipv4", v)
		}
		t.Write(&b, st)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}
