package route

import (
	"net/netip"
	"strings"
	"testing"
)

func TestDeliver(t *testing.T) {
	rs, err := ParseTable(strings.NewReader(`default via 192.0.2.1 dev eth0
192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.10
unreachable 198.51.100.0/24
blackhole 203.0.113.0/24
local 127.0.0.0/8 dev lo table local
`), "t")
	if err != nil {
		t.Fatal(err)
	}
	tab := NewTable(rs)
	for dst, want := range map[string]Delivery{
		"192.0.2.7":       Direct,
		"8.8.8.8":         Gateway,
		"255.255.255.255": Broadcast, // by the default route, yet not to the gateway
		"192.0.2.255":     Broadcast, // the connected network's broadcast
		"224.0.0.251":     Multicast,
		"0.0.0.0":         Nowhere,
		"198.51.100.9":    Refused,
		"203.0.113.9":     Refused,
		"127.0.0.1":       Local,
	} {
		r, ok := tab.Lookup(netip.MustParseAddr(dst))
		if !ok {
			t.Errorf("%s: no route", dst)
			continue
		}
		if got := Deliver(r, netip.MustParseAddr(dst)); got != want {
			t.Errorf("Deliver(%s by %s) = %s, want %s", dst, r, got, want)
		}
	}
}
