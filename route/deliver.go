package route

import "net/netip"

// Delivery is how a packet leaves the host by the route that matched its
// destination.
type Delivery string

// The deliveries.
const (
	Local     Delivery = "local"     // to this host, over lo
	Direct    Delivery = "direct"    // straight to the destination on the link
	Gateway   Delivery = "gateway"   // to the route's gateway, which sends it on
	Broadcast Delivery = "broadcast" // to every host on the link: never to a gateway
	Multicast Delivery = "multicast" // to a group, on the route's interface: never to a gateway
	Refused   Delivery = "refused"   // an unreachable, blackhole, prohibit or throw route: not sent
	Nowhere   Delivery = "nowhere"   // the unspecified address is no destination
)

// Deliver says how a packet to dst leaves by r, the route Lookup found:
// the special destinations (limited and directed broadcast, multicast,
// the unspecified address) are never sent via a gateway, whatever the
// route says, and routes of the refusing types send nothing.
func Deliver(r Route, dst netip.Addr) Delivery {
	dst = dst.Unmap()
	switch r.Type {
	case KindLocal:
		return Local
	case KindBroadcast:
		return Broadcast
	case KindUnreachable, KindBlackhole, KindProhibit, KindThrow:
		return Refused
	}
	switch {
	case dst.IsUnspecified():
		return Nowhere
	case dst == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return Broadcast
	case dst.IsMulticast():
		return Multicast
	case dst.Is4() && r.Dst.Addr().Is4() && r.Dst.Bits() < 31 && !r.Gateway.IsValid() && isLastOf(r.Dst, dst):
		return Broadcast // the directed broadcast of a connected network
	case r.Gateway.IsValid():
		return Gateway
	}
	return Direct
}

// isLastOf reports whether a is the last address of p (its broadcast).
func isLastOf(p netip.Prefix, a netip.Addr) bool {
	b := p.Masked().Addr().As4()
	host := 32 - p.Bits()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= 1<<host - 1
	return a == netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
