package dnsserver_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/netkit-dev/netkit/dnsclient"
	"github.com/netkit-dev/netkit/dnsserver"
)

const zone = `$ORIGIN example.test.
$TTL 300
@    SOA ns hostmaster 1 3600 600 86400 60
@    NS  ns
ns   A   192.0.2.53
www  A   192.0.2.10
`

// Serve a zone on a loopback port, UDP and TCP, and ask it.
func Example() {
	z, err := dnsserver.ParseZone(strings.NewReader(zone), "example.test.", "inline")
	if err != nil {
		log.Fatal(err)
	}
	zs, err := dnsserver.NewZones(z)
	if err != nil {
		log.Fatal(err)
	}
	srv := &dnsserver.Server{}
	srv.SetZones(zs)
	sock, err := dnsserver.Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, []dnsserver.Socket{sock}, dnsserver.RunConfig{}) }()

	server, _ := dnsclient.ParseServer(sock.UDP.LocalAddr().String())
	c := &dnsclient.Client{Servers: []dnsclient.Server{server}}
	ans, err := c.Lookup(context.Background(), dnsclient.Query{Name: "www.example.test", Type: 1})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ans.Rcode(), ans.Records())
	stop()
	if err := <-done; err != nil {
		log.Fatal(err)
	}
	// Output: NOERROR [192.0.2.10]
}
