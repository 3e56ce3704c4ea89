package ipcalc_test

import (
	"fmt"
	"net/netip"

	"github.com/netkit-dev/netkit/ipcalc"
	"github.com/netkit-dev/netkit/ipset"
)

// The tutorials' host: 192.168.0.186 in a /24.
func ExampleDescribe() {
	e, err := ipset.ParseEntry("192.168.0.186/24")
	if err != nil {
		fmt.Println(err)
		return
	}
	f := ipcalc.Describe("192.168.0.186/24", e)
	fmt.Println("network:  ", f.Network)
	fmt.Println("netmask:  ", f.Netmask)
	fmt.Println("broadcast:", f.Broadcast)
	fmt.Println("hosts:    ", f.First, "-", f.Last, "("+f.Usable.String()+")")
	fmt.Println("private:  ", f.Private)
	// Output:
	// network:   192.168.0.0
	// netmask:   255.255.255.0
	// broadcast: 192.168.0.255
	// hosts:     192.168.0.1 - 192.168.0.254 (254)
	// private:   true
}

// Variable-length subnetting: the smallest subnet for each host count,
// largest first, and what is left over. Two hosts fit a /31 (RFC 3021).
func ExampleSplitHosts() {
	allocs, free, err := ipcalc.SplitHosts(netip.MustParsePrefix("192.0.2.0/24"), []int{100, 50, 20, 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range allocs {
		fmt.Println(a.Hosts, a.Prefix)
	}
	fmt.Println("free", free)
	// Output:
	// 100 192.0.2.0/25
	// 50 192.0.2.128/26
	// 20 192.0.2.192/27
	// 2 192.0.2.224/31
	// free [192.0.2.226/31 192.0.2.228/30 192.0.2.232/29 192.0.2.240/28]
}
