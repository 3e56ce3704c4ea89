package gateway_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"time"

	"github.com/netkit-dev/netkit/gateway"
)

// Explain what a configuration does with one flow: each rule tried, the
// verdict and the translation.
func ExampleConfig_Explain() {
	c, err := gateway.Parse("gateway.toml", []byte(`
default = "deny"

[[forward]]
name = "web"
proto = "tcp"
listen = "198.51.100.1:80"
to = ["192.0.2.10:8080"]
proxy_v2 = true

[[rule]]
name = "blocklist"
action = "reject"
source = ["203.0.113.128/25"]

[[rule]]
action = "allow"
proto = "tcp"
port = "80,443"
`))
	if err != nil {
		log.Fatal(err)
	}
	flow, _ := gateway.ParseFlow("tcp 203.0.113.200:40000 -> 198.51.100.1:80")
	e := c.Explain(flow, time.Now())
	e.WriteText(os.Stdout)
	// Output:
	// flow tcp 203.0.113.200:40000 -> 198.51.100.1:80
	//   forward web (gateway.toml:4:1)
	//   rule 1 "blocklist" (gateway.toml:11:1) reject from 203.0.113.128/25: MATCH, decides: source 203.0.113.200 in 203.0.113.128/25
	//   rule 2 (gateway.toml:16:1) allow tcp port 80,443: match: protocol tcp, port 80 in 80,443
	// verdict: reject, by rule 1
}

// Run a gateway on loopback: an echo server behind it, a flow allowed
// through, and the flow table while it is open.
func Example() {
	back, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer back.Close()
	go func() {
		for {
			c, err := back.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	c, err := gateway.Parse("gateway.toml", fmt.Appendf(nil, `
default = "deny"
[[forward]]
name = "echo"
proto = "tcp"
listen = "127.0.0.1:0"
to = [%q]
[[rule]]
action = "allow"
source = ["127.0.0.0/8"]
`, back.Addr()))
	if err != nil {
		log.Fatal(err)
	}
	g, err := gateway.New(c, gateway.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- g.Serve(ctx) }()

	front, _ := g.Addr("echo")
	conn, err := net.Dial("tcp", front)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprint(conn, "hello")
	buf := make([]byte, 5)
	io.ReadFull(conn, buf)
	fmt.Printf("echoed %q\n", buf)
	for _, f := range g.Status().Flows {
		fmt.Printf("flow %s, allowed by rule %d, %d bytes in, target %v\n", f.State, f.Rule, f.BytesIn, f.Target == back.Addr().String())
	}
	conn.Close()
	stop()
	<-done
	// Output:
	// echoed "hello"
	// flow established, allowed by rule 1, 5 bytes in, target true
}
