package services_test

import (
	"fmt"

	"github.com/netkit-dev/netkit/services"
)

// Ports to names and names to ports, from netkit's built-in table.
func ExampleTable() {
	t := services.Builtin()
	fmt.Println(t.Name(22, "tcp"), t.Name(53, "udp"))
	for _, s := range t.ByName("https", "tcp") {
		fmt.Println(s.Port, s.Proto)
	}
	// Output:
	// ssh domain
	// 443 tcp
}
