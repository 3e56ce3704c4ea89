package eventloop_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"

	"github.com/netkit-dev/netkit/inetd"
	"github.com/netkit-dev/netkit/server"
	"github.com/netkit-dev/netkit/server/eventloop"
)

// The same Handler on both engines: a goroutine per connection, and
// epoll loops.
func Example() {
	for _, eng := range []server.StreamServer{
		&server.Server{Handler: inetd.Echo{}},
		&eventloop.Server{Handler: inetd.Echo{}, Loops: 1},
	} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		go eng.Serve(context.Background(), l)
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			log.Fatal(err)
		}
		io.WriteString(c, "ping")
		buf := make([]byte, 4)
		io.ReadFull(c, buf)
		c.Close()
		eng.Shutdown(context.Background())
		fmt.Printf("%T: %s\n", eng, buf)
	}
	// Output:
	// *server.Server: ping
	// *eventloop.Server: ping
}
