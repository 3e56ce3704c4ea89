// A chat server: every line a client sends goes to every other client;
// /nick NAME renames. One Handler (inetd.Chat) shared by all connections.
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

	"github.com/netkit-dev/netkit/inetd"
	"github.com/netkit-dev/netkit/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:12345", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "chat room on %s\n", l.Addr())
	room := &inetd.Chat{Console: out} // the room's lines are printed here too
	return server.Run(ctx, 0, server.Stream(&server.Server{Handler: room}, l))
}
