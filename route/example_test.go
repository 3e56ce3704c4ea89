package route_test

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/netkit-dev/netkit/route"
)

// Which route a packet takes: the longest prefix that holds the
// destination, here from a table in `ip route show` form.
func ExampleTable_Lookup() {
	routes, err := route.ParseTable(strings.NewReader(`default via 192.0.2.1 dev eth0
192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.10
198.51.100.0/24 via 192.0.2.254 dev eth0
`), "example")
	if err != nil {
		fmt.Println(err)
		return
	}
	t := route.NewTable(routes)
	for _, dst := range []string{"198.51.100.7", "192.0.2.99", "203.0.113.5"} {
		r, _ := t.Lookup(netip.MustParseAddr(dst))
		if r.DirectlyConnected() {
			fmt.Printf("%s: directly connected on %s\n", dst, r.Iface)
		} else {
			fmt.Printf("%s: via %s (route %s)\n", dst, r.Gateway, r.Dst)
		}
	}
	// Output:
	// 198.51.100.7: via 192.0.2.254 (route 198.51.100.0/24)
	// 192.0.2.99: directly connected on eth0
	// 203.0.113.5: via 192.0.2.1 (route 0.0.0.0/0)
}
