package tour_test

import (
	"context"
	"fmt"

	"github.com/netkit-dev/netkit/tour"
)

// Run one step of the tour and print its narration.
func ExampleRunStep() {
	s, err := tour.Find("ipv6")
	if err != nil {
		fmt.Println(err)
		return
	}
	r := tour.RunStep(context.Background(), s, nil)
	fmt.Print(r.Output)
	fmt.Println(r.OK)
	// Output:
	// 2001:0db8:0000:0000:0000:ff00:0042:8329
	//   is written 2001:db8::ff00:42:8329 (RFC 5952): leading zeros go, and :: stands for the run of zero groups.
	// It is in Documentation, a range set aside for documentation.
	// ::ffff:192.0.2.1 is an IPv4 address seen through an IPv6 socket (IPv4-mapped); inside it: 192.0.2.1.
	// true
}
