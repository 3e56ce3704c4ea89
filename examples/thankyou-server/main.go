// The thank-you server: bind, listen, accept, send, close, with the
// socket calls of the standard library.
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
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("thankyou-server", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:12345", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// socket(), bind() and listen() in one call.
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer l.Close()
	fmt.Fprintf(out, "listening on %s\n", l.Addr())
	context.AfterFunc(ctx, func() { l.Close() })
	for {
		c, err := l.Accept() // waits for a client's connect()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		fmt.Fprintf(out, "got a connection from %s\n", c.RemoteAddr())
		_, err = io.WriteString(c, "Thank you for connecting\n")
		c.Close()
		if err != nil {
			fmt.Fprintf(out, "send to %s: %v\n", c.RemoteAddr(), err)
		}
	}
}
