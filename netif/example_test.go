package netif_test

import (
	"fmt"
	"log"
	"net/netip"
	"slices"

	"github.com/netkit-dev/netkit/netif"
)

// The loopback interface and its IPv4 address, as ip addr shows them.
func ExampleByName() {
	lo, err := netif.ByName("lo")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(lo.Name, slices.Contains(lo.Addrs, netip.MustParsePrefix("127.0.0.1/8")), netif.Scope(netip.MustParseAddr("127.0.0.1")))
	// Output: lo true host
}
