package gateway

import (
	"net"
	"net/netip"
	"time"
)

// Explanation is what the gateway would do with a flow, and why: every
// rule tried, the verdict, and the translation applied.
type Explanation struct {
	Flow Flow
	// Forward is the forward that listens where the flow goes, or nil
	// when none does (the gateway would not even accept it).
	Forward *Forward
	Tries   []Try
	Verdict Verdict
	// Via is the gateway's own address towards the first target, which
	// the target sees as the source (masquerade); invalid when this host
	// has no route to it.
	Via netip.Addr
}

// Explain says what the gateway would do with f at time now.
func (c *Config) Explain(f Flow, now time.Time) Explanation {
	rs := NewRuleset(c.Rules, c.Default, c.Location())
	tries, v := rs.Explain(f, now)
	e := Explanation{Flow: f, Tries: tries, Verdict: v}
	for i := range c.Forwards {
		if c.Forwards[i].Listens(f.Proto, f.Dst) {
			e.Forward = &c.Forwards[i]
			break
		}
	}
	if e.Forward != nil && v.Action == Allow {
		e.Via = routeSource(e.Forward.To[0].AddrPort)
	}
	return e
}

// routeSource asks the kernel which of this host's addresses it would
// send from to reach dst: a UDP socket connected to dst, which sends
// nothing.
func routeSource(dst netip.AddrPort) netip.Addr {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(dst))
	if err != nil {
		return netip.Addr{}
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
}
