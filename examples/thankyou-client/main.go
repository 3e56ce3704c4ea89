// The thank-you client: connect, receive until the server closes, print.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"time"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("thankyou-client", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:12345", "server to connect to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", *addr) // socket() and connect()
	if err != nil {
		return err
	}
	defer c.Close()
	msg, err := io.ReadAll(c) // recv() until it returns 0: the server closed
	if err != nil {
		return err
	}
	fmt.Fprint(out, string(msg))
	return nil
}
