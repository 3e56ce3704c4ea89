package scan_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/netip"
	"strings"

	"github.com/netkit-dev/netkit/scan"
)

// Scan two loopback ports: one listening, one not.
func ExampleScan() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	open := uint16(l.Addr().(*net.TCPAddr).Port)
	l2, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := uint16(l2.Addr().(*net.TCPAddr).Port)
	l2.Close() // nothing listens there now: the kernel answers RST

	addrs := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	report := scan.NewReport(addrs, nil)
	cfg := scan.Config{OnResult: func(r scan.Result) { report.Add(r) }}
	sum, err := scan.Scan(context.Background(), cfg, addrs, []uint16{open, closed})
	if err != nil {
		log.Fatal(err)
	}
	h := report.Hosts[0]
	fmt.Println(sum.Open, "open,", sum.Closed, "closed; open port found:", h.Ports[0].Port == open)
	l.Close()
	// Output: 1 open, 1 closed; open port found: true
}

// A firewall policy to check with a scan, and what a scan that found
// everything closed makes of it.
func ExampleReadPolicy() {
	p, err := scan.ReadPolicy(strings.NewReader("# the web server\n192.0.2.80 443 open\n192.0.2.80 22 closed\n"), "policy.txt")
	if err != nil {
		log.Fatal(err)
	}
	allClosed := func(netip.AddrPort) scan.State { return scan.Closed }
	for _, d := range p.Check(allClosed) {
		fmt.Println(d)
	}
	// Output: policy.txt:2: 192.0.2.80 port 443/tcp: expected open, found closed
}

func ExampleParsePorts() {
	ports, err := scan.ParsePorts("22,80,8000-8003,80")
	fmt.Println(ports, err)
	// Output: [22 80 8000 8001 8002 8003] <nil>
}

// Run is a whole scan in one call: targets as people write them, the
// report gathered by host, and a policy checked.
func ExampleRun() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	policy, err := scan.ReadPolicy(strings.NewReader(fmt.Sprintf("127.0.0.1 %d closed\n", port)), "policy.txt")
	if err != nil {
		log.Fatal(err)
	}
	out, err := scan.Run(context.Background(), scan.Job{Policy: policy})
	if err != nil {
		log.Fatal(err)
	}
	doc := out.Document()
	fmt.Println(doc.Targets[0].Address, doc.Open, "open;", len(out.Differences), "difference from the policy")
	// Output: 127.0.0.1 1 open; 1 difference from the policy
}
