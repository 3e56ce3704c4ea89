package endpoint_test

import (
	"context"
	"fmt"
	"io"
	"log"

	"github.com/netkit-dev/netkit/endpoint"
)

// Endpoints are URLs; a bare host:port is TCP.
func ExampleParse() {
	for _, s := range []string{"127.0.0.1:12345", "udp6://[::1]:53", "unix:///run/app.sock", "tcp://127.0.0.1:66000"} {
		e, err := endpoint.Parse(s)
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(e.Scheme, e.Host, e.Port, e)
	}
	// Output:
	// tcp 127.0.0.1 12345 tcp://127.0.0.1:12345
	// udp6 ::1 53 udp6://[::1]:53
	// unix  0 unix:///run/app.sock
	// error: invalid port 66000 in "tcp://127.0.0.1:66000": ports are 0-65535
}

// Listen on a port the system picks, then dial it by the endpoint it was
// given.
func ExampleDial() {
	ctx := context.Background()
	l, err := endpoint.Listen(ctx, endpoint.MustParse("tcp://127.0.0.1:0"))
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			io.WriteString(c, "Thank you for connecting\n")
			c.Close()
		}
	}()
	bound, _ := endpoint.FromAddr(l.Addr())
	c, err := endpoint.Dial(ctx, bound)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	b, _ := io.ReadAll(c)
	fmt.Print(string(b))
	// Output: Thank you for connecting
}
