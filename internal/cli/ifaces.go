package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/netif"
	"github.com/spf13/cobra"
)

type ifacesOptions struct {
	names []string
	brief bool
}

func newIfacesCmd(a *app) *cobra.Command {
	var o ifacesOptions
	cmd := &cobra.Command{
		Use:   "ifaces [NAME...]",
		Short: "List network interfaces and their addresses (as ip addr)",
		Long: `List every network interface with its index, flags, MTU, operational state,
hardware address, and each address with its prefix length and scope, as
"ip addr" shows them. Name interfaces to show only those; a name that does
not exist exits 1.`,
		Example: `  netkit ifaces
  netkit ifaces lo
  netkit ifaces --brief
  netkit ifaces --json`,
		GroupID: groupNetwork,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			o.names = args
			return runIfaces(a, o)
		}),
	}
	cmd.Flags().BoolVarP(&o.brief, "brief", "b", false, "one line per interface (as ip -br addr)")
	return cmd
}

// ifaceView is an interface as netkit prints it.
type ifaceView struct {
	Index        int        `json:"index"`
	Name         string     `json:"name"`
	Flags        []string   `json:"flags"`
	MTU          int        `json:"mtu"`
	State        string     `json:"state,omitempty"`
	HardwareAddr string     `json:"hardware_addr,omitempty"`
	Addrs        []addrView `json:"addrs"`
}

type addrView struct {
	Family       string `json:"family"`
	Address      string `json:"address"`
	PrefixLength int    `json:"prefix_length"`
	CIDR         string `json:"cidr"`
	Scope        string `json:"scope"`
}

type ifacesResult struct {
	Interfaces []ifaceView `json:"interfaces"`
	brief      bool
}

func runIfaces(a *app, o ifacesOptions) error {
	var list []netif.Interface
	if len(o.names) == 0 {
		all, err := netif.List()
		if err != nil {
			return err
		}
		list = all
	}
	for _, n := range o.names {
		it, err := netif.ByName(n)
		if err != nil {
			return fmt.Errorf("no interface named %q (netkit ifaces lists them)", n)
		}
		list = append(list, it)
	}
	res := ifacesResult{Interfaces: []ifaceView{}, brief: o.brief}
	for _, it := range list {
		v := ifaceView{
			Index: it.Index, Name: it.Name, Flags: it.FlagNames(), MTU: it.MTU,
			State: it.OperState, HardwareAddr: it.HardwareAddr.String(), Addrs: []addrView{},
		}
		for _, p := range it.Addrs {
			v.Addrs = append(v.Addrs, addrView{
				Family:       netif.Family(p.Addr()),
				Address:      p.Addr().String(),
				PrefixLength: p.Bits(),
				CIDR:         p.String(),
				Scope:        netif.Scope(p.Addr()),
			})
		}
		res.Interfaces = append(res.Interfaces, v)
	}
	return a.render(res)
}

func (r ifacesResult) writeHuman(w io.Writer, st textui.Style) error {
	if r.brief {
		t := textui.NewTable("NAME", "STATE", "ADDRESSES")
		for _, it := range r.Interfaces {
			var addrs []string
			for _, ad := range it.Addrs {
				addrs = append(addrs, ad.CIDR)
			}
			t.Add(it.Name, strings.ToUpper(it.State), strings.Join(addrs, " "))
		}
		return t.Write(w, st)
	}
	var b strings.Builder
	for _, it := range r.Interfaces {
		fmt.Fprintf(&b, "%d: %s <%s> mtu %d", it.Index, st.Bold(it.Name), strings.Join(it.Flags, ","), it.MTU)
		if it.State != "" {
			fmt.Fprintf(&b, " state %s", strings.ToUpper(it.State))
		}
		b.WriteByte('\n')
		if it.HardwareAddr != "" {
			fmt.Fprintf(&b, "    link %s\n", it.HardwareAddr)
		}
		for _, ad := range it.Addrs {
			fmt.Fprintf(&b, "    %-5s %s scope %s\n", ad.Family, st.Cyan(ad.CIDR), ad.Scope)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
