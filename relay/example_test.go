package relay_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"

	"github.com/netkit-dev/netkit/relay"
)

// Forward a port: connections to the front are relayed to the back, both
// ways, with half-close carried across.
func ExampleForwarder() {
	back, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		c, err := back.Accept()
		if err != nil {
			return
		}
		got, _ := io.ReadAll(c) // until the client's half-close
		fmt.Fprintf(c, "the back end got %q", got)
		c.Close()
	}()
	front, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	f := &relay.Forwarder{Dial: func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", back.Addr().String())
	}}
	go f.Serve(context.Background(), front)
	defer f.Shutdown(context.Background())

	c, err := net.Dial("tcp", front.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	io.WriteString(c, "request")
	c.(*net.TCPConn).CloseWrite()
	answer, _ := io.ReadAll(c)
	fmt.Println(string(answer))
	// Output: the back end got "request"
}
