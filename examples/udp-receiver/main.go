// UDP: recvfrom() gets one datagram and the address it came from; no
// connection, no accept().
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
	fs := flag.NewFlagSet("udp-receiver", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:12345", "address to receive on")
	count := fs.Int("n", 0, "stop after this many datagrams (0: never)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pc, err := net.ListenPacket("udp", *addr) // socket() and bind()
	if err != nil {
		return err
	}
	defer pc.Close()
	fmt.Fprintf(out, "receiving on %s\n", pc.LocalAddr())
	context.AfterFunc(ctx, func() { pc.Close() })
	buf := make([]byte, 65535)
	for n := 0; *count == 0 || n < *count; n++ {
		size, from, err := pc.ReadFrom(buf) // recvfrom()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		fmt.Fprintf(out, "%d bytes from %s: %q\n", size, from, buf[:size])
		pc.WriteTo([]byte("got it\n"), from) // sendto() the sender
	}
	return nil
}
