// Threaded vs event-driven: one echo Handler served by a goroutine per
// connection, or by epoll event loops (-engine eventloop).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"

	"github.com/netkit-dev/netkit/server"
	"github.com/netkit-dev/netkit/server/eventloop"
)

// echo sends back what it gets: the whole protocol, as callbacks.
type echo struct{ server.Base }

func (echo) OnData(c server.Conn, p []byte) { c.Write(p) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("echo", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:12345", "address to listen on")
	engine := fs.String("engine", "goroutine", "goroutine or eventloop")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var srv server.StreamServer
	switch *engine {
	case "goroutine":
		srv = &server.Server{Handler: echo{}}
	case "eventloop":
		srv = &eventloop.Server{Handler: echo{}}
	default:
		return fmt.Errorf("unknown -engine %q: goroutine or eventloop", *engine)
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "echo (%s engine) on %s\n", *engine, l.Addr())
	return server.Run(ctx, 0, server.Stream(srv, l)) // until Ctrl-C, then a graceful stop
}
