package route

import (
	"net/netip"

	"github.com/netkit-dev/netkit/netif"
)

// Source returns the source address the host would use for a packet to
// dst over r: the route's preferred source if it names one; for local
// routes dst itself; else an address of the route's interface, one whose
// network holds the gateway or dst if there is one (a link-local one only
// for a link-local destination, as the kernel chooses), else the first
// with global scope. It returns the zero Addr when none is known.
func Source(r Route, dst netip.Addr) netip.Addr {
	if r.Src.IsValid() {
		return r.Src
	}
	if r.Type == KindLocal {
		return dst
	}
	if r.Iface == "" {
		return netip.Addr{}
	}
	it, err := netif.ByName(r.Iface)
	if err != nil {
		return netip.Addr{}
	}
	next := dst
	if r.Gateway.IsValid() {
		next = r.Gateway
	}
	var fallback netip.Addr
	for _, p := range it.Addrs {
		a := p.Addr().WithZone("")
		if a.Is4() != dst.Is4() {
			continue
		}
		if netip.PrefixFrom(a, p.Bits()).Masked().Contains(next.WithZone("")) && (!a.IsLinkLocalUnicast() || dst.IsLinkLocalUnicast()) {
			return a
		}
		if !fallback.IsValid() && netif.Scope(a) == "global" {
			fallback = a
		}
	}
	return fallback
}
