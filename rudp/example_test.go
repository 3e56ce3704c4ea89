package rudp_test

import (
	"context"
	"fmt"
	"io"
	"log"

	"github.com/netkit-dev/netkit/rudp"
)

// A reliable stream over UDP with the net.Conn API: the listener accepts,
// the client dials, writes and half-closes, and every byte arrives in
// order.
func Example() {
	l, err := rudp.Listen("udp", "127.0.0.1:0", rudp.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	got := make(chan string)
	go func() {
		c, err := l.Accept()
		if err != nil {
			log.Fatal(err)
		}
		b, _ := io.ReadAll(c)
		c.Close()
		got <- string(b)
	}()
	c, err := rudp.Dial(context.Background(), "udp", l.Addr().String(), rudp.Config{})
	if err != nil {
		log.Fatal(err)
	}
	c.Write([]byte("envelope 13, and all the others"))
	c.CloseWrite()
	fmt.Println(<-got)
	c.Close()
	// Output: envelope 13, and all the others
}
