package inetd_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"

	"github.com/netkit-dev/netkit/inetd"
	"github.com/netkit-dev/netkit/server"
)

// The tutorials' thank-you server, as a Handler on the goroutine engine.
func ExampleHello() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &server.Server{Handler: inetd.Hello{}}
	go srv.Serve(context.Background(), l)
	defer srv.Shutdown(context.Background())

	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	fmt.Print(string(b))
	// Output: Thank you for connecting
}

// Every service, by name.
func ExampleServices() {
	for _, s := range inetd.Services() {
		fmt.Println(s.Name, s.Port, s.RFC, s.NewPacket != nil)
	}
	// Output:
	// chargen 19 864 true
	// chat 0 0 false
	// daytime 13 867 true
	// discard 9 863 true
	// echo 7 862 true
	// hello 0 0 false
	// qotd 17 865 true
	// time 37 868 true
}
