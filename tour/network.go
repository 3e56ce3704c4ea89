package tour

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/ipcalc"
	"github.com/netkit-dev/netkit/ipset"
	"github.com/netkit-dev/netkit/netif"
	"github.com/netkit-dev/netkit/route"
)

// interfaces: a host's network interfaces and the addresses on them.
type interfaces struct{ noFiles }

func (interfaces) Name() string  { return "interfaces" }
func (interfaces) Layer() string { return "link" }
func (interfaces) Idea() string {
	return "a host joins networks through interfaces, and each interface has addresses"
}
func (interfaces) Commands() []string { return []string{"netkit ifaces", "netkit ifaces lo"} }

func (interfaces) Run(ctx context.Context, w io.Writer, e *Env) error {
	ifs, err := netif.List()
	if err != nil {
		return err
	}
	t := textui.NewTable("INTERFACE", "STATE", "MTU", "ADDRESSES")
	for _, i := range ifs {
		var as []string
		for _, p := range i.Addrs {
			as = append(as, p.String())
		}
		t.Add(i.Name, i.OperState, fmt.Sprint(i.MTU), strings.Join(as, " "))
	}
	say(w, "This host has %d interfaces. Loopback (lo) never leaves the machine: every step of the tour runs on it.", len(ifs))
	return t.Write(w, e.Style)
}

// addresses: an IPv4 address is a 32-bit number; the prefix splits it.
type addresses struct{ noFiles }

func (addresses) Name() string  { return "addresses" }
func (addresses) Layer() string { return "network" }
func (addresses) Idea() string {
	return "an IPv4 address is a 32-bit number; CIDR's prefix length splits it into network and host, and subnetting splits networks"
}
func (addresses) Commands() []string {
	return []string{"netkit ip 192.168.0.186/24", "netkit ip split 192.168.0.0/24 --prefix 26", "netkit ip split 192.168.0.0/24 --hosts 100,50,20"}
}

func (addresses) Run(ctx context.Context, w io.Writer, e *Env) error {
	const in = "192.168.0.186/24"
	ent, err := ipset.ParseEntry(in)
	if err != nil {
		return err
	}
	f := ipcalc.Describe(in, ent)
	a := netip.MustParseAddr("192.168.0.186")
	say(w, "%s is the number %s, in bits %s.", a, f.Integer, ipcalc.Binary(a, 24))
	say(w, "The /24 keeps the first 24 bits for the network (the | above marks the boundary):")
	t := textui.NewTable()
	for _, row := range [][2]string{
		{"netmask", f.Netmask.String()}, {"network", f.Network.String()}, {"broadcast", f.Broadcast.String()},
		{"hosts", f.First.String() + " - " + f.Last.String() + " (" + f.Usable.String() + ")"}, {"private", fmt.Sprint(f.Private) + " (" + f.RFC + ")"},
	} {
		t.Add(" "+row[0], row[1])
	}
	if err := t.Write(w, e.Style); err != nil {
		return err
	}
	say(w, "Subnetting 192.168.0.0/24 into /26s gives four networks of 62 hosts:")
	subs, err := ipcalc.Subnets(netip.MustParsePrefix("192.168.0.0/24"), 26)
	if err != nil {
		return err
	}
	st := textui.NewTable(" SUBNET", "NETWORK", "BROADCAST")
	for p := range subs {
		sub, _ := ipset.ParseEntry(p.String())
		sf := ipcalc.Describe(p.String(), sub)
		st.Add(" "+p.String(), sf.Network.String(), sf.Broadcast.String())
	}
	return st.Write(w, e.Style)
}

// ipv6: 128 bits, and the compact form of RFC 5952.
type ipv6 struct{ noFiles }

func (ipv6) Name() string  { return "ipv6" }
func (ipv6) Layer() string { return "network" }
func (ipv6) Idea() string {
	return "IPv6 addresses are 128 bits, written in hex groups with leading zeros and the longest run of zero groups left out"
}
func (ipv6) Commands() []string {
	return []string{"netkit ip 2001:0db8:0000:0000:0000:ff00:0042:8329", "netkit ip ::ffff:192.0.2.1"}
}

func (ipv6) Run(ctx context.Context, w io.Writer, e *Env) error {
	const long = "2001:0db8:0000:0000:0000:ff00:0042:8329"
	a, err := netip.ParseAddr(long)
	if err != nil {
		return err
	}
	say(w, "%s\n  is written %s (RFC 5952): leading zeros go, and :: stands for the run of zero groups.", long, a)
	ent, _ := ipset.ParseEntry(a.String())
	f := ipcalc.Describe(a.String(), ent)
	say(w, "It is in %s, a range set aside for documentation.", f.Type)
	m := netip.MustParseAddr("::ffff:192.0.2.1")
	say(w, "%s is an IPv4 address seen through an IPv6 socket (IPv4-mapped); inside it: %s.", m, m.Unmap())
	return nil
}

// routing: which route a packet takes, by longest prefix.
type routing struct{ noFiles }

func (routing) Name() string  { return "routing" }
func (routing) Layer() string { return "network" }
func (routing) Idea() string {
	return "a routing table sends each packet by the longest prefix that holds its destination: directly, or via a gateway"
}
func (routing) Commands() []string {
	return []string{"netkit route", "netkit route get 127.0.0.1"}
}

// A table in `ip route show` form, for the example routes.
const exampleRoutes = `default via 192.0.2.1 dev eth0
192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.10
198.51.100.0/24 via 192.0.2.254 dev eth0
`

func (routing) Run(ctx context.Context, w io.Writer, e *Env) error {
	rs, err := route.System()
	if err == nil {
		t := route.NewTable(rs)
		if r, ok := t.Lookup(netip.MustParseAddr("127.0.0.1")); ok {
			say(w, "On this host, 127.0.0.1 matches %s in table %s: a %s route; the packet never leaves the host.", r.Dst, route.TableName(r.Table), r.Type)
		}
	}
	ex, err := route.ParseTable(strings.NewReader(exampleRoutes), "example")
	if err != nil {
		return err
	}
	say(w, "A typical host's table (ip route show):\n%s", indent(exampleRoutes))
	t := route.NewTable(ex)
	for _, dst := range []string{"192.0.2.99", "198.51.100.7", "203.0.113.5"} {
		r, _ := t.Lookup(netip.MustParseAddr(dst))
		if r.DirectlyConnected() {
			say(w, "  %-13s -> %s is the longest match: directly connected, sent straight to it on %s", dst, r.Dst, r.Iface)
		} else {
			say(w, "  %-13s -> %s is the longest match: via gateway %s", dst, r.Dst, r.Gateway)
		}
	}
	return nil
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}

// noFiles is embedded by steps whose commands need no files.
type noFiles struct{}

func (noFiles) Files() map[string]string { return nil }
