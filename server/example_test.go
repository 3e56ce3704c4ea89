package server_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"strings"

	"github.com/netkit-dev/netkit/server"
)

// upper answers each chunk in capitals: a Handler needs only the
// callbacks it uses, Base gives the rest.
type upper struct{ server.Base }

func (upper) OnData(c server.Conn, p []byte) { c.Write([]byte(strings.ToUpper(string(p)))) }

// A server process: bind, then Run until the context ends, then a
// graceful Shutdown.
func ExampleRun() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, 0, server.Stream(&server.Server{Handler: upper{}}, l)) }()

	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	io.WriteString(c, "hello\n")
	c.(*net.TCPConn).CloseWrite()
	b, _ := io.ReadAll(c)
	fmt.Print(string(b))

	stop() // as Ctrl-C would
	fmt.Println(<-done)
	// Output:
	// HELLO
	// <nil>
}
