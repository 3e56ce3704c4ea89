// UDP: sendto() a datagram and wait a moment for a reply; a datagram may
// be lost, so the wait is bounded.
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
	fs := flag.NewFlagSet("udp-sender", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:12345", "where to send")
	wait := fs.Duration("wait", 2*time.Second, "how long to wait for a reply")
	if err := fs.Parse(args); err != nil {
		return err
	}
	to, err := net.ResolveUDPAddr("udp", *addr)
	if err != nil {
		return err
	}
	pc, err := net.ListenPacket("udp", ":0") // an unconnected socket, any port
	if err != nil {
		return err
	}
	defer pc.Close()
	msg := "hello over UDP"
	if fs.NArg() > 0 {
		msg = fs.Arg(0)
	}
	if _, err := pc.WriteTo([]byte(msg), to); err != nil { // sendto()
		return err
	}
	pc.SetReadDeadline(time.Now().Add(*wait))
	buf := make([]byte, 65535)
	n, from, err := pc.ReadFrom(buf)
	if err != nil {
		return fmt.Errorf("no reply within %s (UDP promises nothing): %w", *wait, err)
	}
	fmt.Fprintf(out, "reply from %s: %q\n", from, buf[:n])
	return nil
}
