package dnsclient_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/netkit-dev/netkit/dnsclient"
)

// Servers are written as dig takes them: an address, host:port, or a URL
// naming the transport.
func ExampleParseServer() {
	for _, s := range []string{"192.0.2.53", "[2001:db8::53]:5353", "tcp://192.0.2.53", "tls://192.0.2.53", "https://192.0.2.53/dns-query"} {
		sv, err := dnsclient.ParseServer(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(sv.Transport, sv.Addr)
	}
	// Output:
	// udp 192.0.2.53:53
	// udp [2001:db8::53]:5353
	// tcp 192.0.2.53:53
	// tls 192.0.2.53:853
	// https 192.0.2.53:443
}

// A stub resolver expands a relative name with the search list when it
// has fewer dots than ndots, as resolv.conf defines; Lookup asks each in
// turn.
func ExampleClient_Names() {
	c := &dnsclient.Client{Search: []string{"corp.example", "example"}, Ndots: 1}
	fmt.Println(c.Names("www"))
	fmt.Println(c.Names("www.example.com"))
	// Output:
	// [www.corp.example. www.example. www.]
	// [www.example.com. www.example.com.corp.example. www.example.com.example.]
}

// A batch file holds a query per line.
func ExampleReadQueries() {
	qs, err := dnsclient.ReadQueries(strings.NewReader("example.com\n# mail\nexample.com MX\nexample.net aaaa\n"), "batch")
	fmt.Println(qs, err)
	// Output: [example.com A example.com MX example.net AAAA] <nil>
}

// ParseDig reads a command line as dig users write it, in any order.
func ExampleParseDig() {
	d, err := dnsclient.ParseDig([]string{"example.com", "MX", "AAAA", "@192.0.2.53", "+tcp", "+dnssec"}, 5353, dnsclient.DigFlags{})
	if err != nil {
		log.Fatal(err)
	}
	qs, _ := d.Queries([]string{"192.0.2.1"})
	fmt.Println(d.Servers[0], d.DNSSEC)
	for _, q := range qs {
		fmt.Println(q)
	}
	_, err = dnsclient.ParseDig([]string{"example.com", "+bogus"}, 0, dnsclient.DigFlags{})
	fmt.Println(err != nil)
	// Output:
	// tcp://192.0.2.53:5353 true
	// 1.2.0.192.in-addr.arpa. PTR
	// example.com MX
	// example.com AAAA
	// true
}
