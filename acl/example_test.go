package acl_test

import (
	"fmt"
	"net/netip"

	"github.com/netkit-dev/netkit/acl"
)

// Let a documentation network in, except one host; a dual-stack socket's
// IPv4-mapped form of an address is matched as the IPv4 address.
func Example() {
	l, err := acl.Parse([]string{"192.0.2.0/24"}, []string{"192.0.2.13"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range []string{"192.0.2.7", "::ffff:192.0.2.13", "203.0.113.9"} {
		if err := l.Check(netip.MustParseAddr(s)); err != nil {
			fmt.Println("refuse:", err)
		} else {
			fmt.Println("accept:", s)
		}
	}
	// Output:
	// accept: 192.0.2.7
	// refuse: 192.0.2.13 is denied by deny 192.0.2.13/32
	// refuse: 203.0.113.9 is not in any allow prefix
}
