package ipset_test

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/netkit-dev/netkit/ipset"
)

// Merge a list to the fewest prefixes.
func ExampleBuilder_ReadList() {
	list := "192.0.2.0/25\n192.0.2.128/25\n# a comment\n198.51.100.7\n198.51.100.6\n2001:db8::/33\n2001:db8:8000::/33\n"
	var b ipset.Builder
	if err := b.ReadList(strings.NewReader(list), "list", nil); err != nil {
		fmt.Println(err)
		return
	}
	for p := range b.Finish().All() {
		fmt.Println(p)
	}
	// Output:
	// 192.0.2.0/24
	// 198.51.100.6/31
	// 2001:db8::/32
}

// A range as prefixes, and set algebra.
func ExampleRange_Prefixes() {
	r := ipset.MustParseRange("192.0.2.10-192.0.2.20")
	fmt.Println(r.Prefixes())

	var a, b ipset.Builder
	a.AddPrefix(netip.MustParsePrefix("192.0.2.0/24"))
	b.AddPrefix(netip.MustParsePrefix("192.0.2.128/25"))
	fmt.Println(a.Finish().Difference(b.Finish()).Prefixes())
	// Output:
	// [192.0.2.10/31 192.0.2.12/30 192.0.2.16/30 192.0.2.20/32]
	// [192.0.2.0/25]
}
