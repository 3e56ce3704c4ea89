package netcat_test

import (
	"context"
	"log"
	"net"
	"os"
	"strings"

	"github.com/netkit-dev/netkit/netcat"
)

// The tutorials' thank-you exchange, both sides: Serve joins one client to
// its streams, Bridge joins a connection to the client's.
func Example() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	served := make(chan error, 1)
	go func() {
		// The server's "stdin" is its answer; what the client sends goes
		// to the server's "stdout", here discarded.
		served <- netcat.Serve(context.Background(), l, strings.NewReader("Thank you for connecting\n"), new(strings.Builder), netcat.ListenConfig{})
	}()

	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	// The client sends its stdin, shuts down its write side, and prints
	// what comes back until the server closes.
	if err := netcat.Bridge(context.Background(), c, strings.NewReader("hello\n"), os.Stdout, netcat.Options{}); err != nil {
		log.Fatal(err)
	}
	if err := <-served; err != nil {
		log.Fatal(err)
	}
	// Output: Thank you for connecting
}

// A Dumper shows traffic as netkit connect --hex does.
func ExampleDumper() {
	d := netcat.NewDumper(os.Stdout)
	d.Sent([]byte("GET / HTTP/1.0\r\n\r\n"))
	d.Received([]byte("HTTP/1.0 200 OK\r\n"))
	// Output:
	// > 00000000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 30 0d 0a  |GET / HTTP/1.0..|
	// > 00000010  0d 0a                                             |..|
	// < 00000000  48 54 54 50 2f 31 2e 30  20 32 30 30 20 4f 4b 0d  |HTTP/1.0 200 OK.|
	// < 00000010  0a                                                |.|
}
