// gethostname and gethostbyname: this host's name, and the addresses of
// any name through the system resolver (the hosts file, then DNS).
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/netkit-dev/netkit/dnsclient"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, names []string, out io.Writer) error {
	host, err := os.Hostname() // gethostname()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "this host is %s\n", host)
	if len(names) == 0 {
		names = []string{host}
	}
	var r dnsclient.System
	for _, n := range names {
		h, err := r.Lookup(ctx, n, dnsclient.AnyFamily) // getaddrinfo(), gethostbyname's successor
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s has %v\n", n, h.Addrs)
	}
	return nil
}
