package impair_test

import (
	"fmt"
	"time"

	"github.com/netkit-dev/netkit/impair"
)

// A link that loses datagram 13 and delays the others by 20 ms: the
// decisions come from the seed, so every run prints the same.
func ExampleLink() {
	l := impair.NewLink(impair.Faults{Delay: 20 * time.Millisecond, Script: []impair.Rule{{Nth: 13}}}, 7)
	for i := 1; i <= 14; i++ {
		d := l.Decide([]byte(fmt.Sprintf("envelope %d", i)), time.Duration(i)*time.Millisecond)
		if i >= 12 {
			fmt.Println(d)
		}
	}
	c := l.Counters()
	fmt.Println(c.Received, "received,", c.Delivered, "delivered,", c.Dropped(), "dropped")
	// Output:
	// 12 11B delivered +20ms
	// 13 11B script-drop
	// 14 11B delivered +20ms
	// 14 received, 13 delivered, 1 dropped
}
