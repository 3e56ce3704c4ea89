package dnsserver

import (
	"context"
	"net"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/netkit-dev/netkit/internal/testutil"
)

// serveOptions runs Serve on a free loopback port until the test ends and
// returns the port.
func serveOptions(t *testing.T, o Options) string {
	t.Helper()
	o.Listen = []string{"127.0.0.1:0"}
	ports := make(chan string, 4)
	o.Events = func(ev Event) {
		if ev.Event == "listening" && strings.HasPrefix(ev.Endpoint, "udp://") {
			_, port, _ := net.SplitHostPort(strings.TrimPrefix(ev.Endpoint, "udp://"))
			ports <- port
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := Serve(ctx, o); done <- err }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case p := <-ports:
		return p
	case err := <-done:
		t.Fatalf("Serve: %v", err)
	}
	return ""
}

// Every record type in the test zone and every rcode, asked with dig and
// kdig, over UDP and TCP.
func TestServeWithDigAndKdig(t *testing.T) {
	testutil.Program(t, "dig")
	testutil.Program(t, "kdig")
	port := serveOptions(t, Options{Zones: []ZoneFile{{Path: "testdata/serve.zone"}}})
	soa := "serve.example. 300 IN SOA ns1.serve.example. hostmaster.serve.example. 2026112101 7200 900 1209600 300"
	child := "child.serve.example. 3600 IN NS ns.child.serve.example."
	for _, tc := range []struct {
		name, qtype, rcode string
		aa                 bool
		answer             []string
		ns                 []string
	}{
		{"serve.example", "SOA", "NOERROR", true, []string{"serve.example. 3600 IN SOA ns1.serve.example. hostmaster.serve.example. 2026112101 7200 900 1209600 300"}, nil},
		{"serve.example", "NS", "NOERROR", true, []string{"serve.example. 3600 IN NS ns1.serve.example.", "serve.example. 3600 IN NS ns2.serve.example."}, nil},
		{"serve.example", "MX", "NOERROR", true, []string{"serve.example. 3600 IN MX 10 mail.serve.example."}, nil},
		{"serve.example", "TXT", "NOERROR", true, []string{`serve.example. 3600 IN TXT "v=spf1 -all"`}, nil},
		{"serve.example", "CAA", "NOERROR", true, []string{`serve.example. 3600 IN CAA 0 issue "ca.example"`}, nil},
		{"www.serve.example", "A", "NOERROR", true, []string{"www.serve.example. 3600 IN A 192.0.2.80"}, nil},
		{"www.serve.example", "AAAA", "NOERROR", true, []string{"www.serve.example. 3600 IN AAAA 2001:db8::80"}, nil},
		{"_sip._tcp.serve.example", "SRV", "NOERROR", true, []string{"_sip._tcp.serve.example. 3600 IN SRV 10 60 5060 www.serve.example."}, nil},
		{"ptr.serve.example", "PTR", "NOERROR", true, []string{"ptr.serve.example. 3600 IN PTR www.serve.example."}, nil},
		{"hinfo.serve.example", "HINFO", "NOERROR", true, []string{`hinfo.serve.example. 3600 IN HINFO "PC" "Linux"`}, nil},
		{"sshfp.serve.example", "SSHFP", "NOERROR", true, []string{"sshfp.serve.example. 3600 IN SSHFP 1 1 0123456789abcdef0123456789abcdef01234567"}, nil},
		{"_443._tcp.www.serve.example", "TLSA", "NOERROR", true, []string{"_443._tcp.www.serve.example. 3600 IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}, nil},
		{"naptr.serve.example", "NAPTR", "NOERROR", true, []string{`naptr.serve.example. 3600 IN NAPTR 100 10 "U" "E2U+sip" "!^.*$!sip:info@serve.example!" .`}, nil},
		{"loc.serve.example", "LOC", "NOERROR", true, []string{"loc.serve.example. 3600 IN LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m"}, nil},
		{"rp.serve.example", "RP", "NOERROR", true, []string{"rp.serve.example. 3600 IN RP hostmaster.serve.example. txt.serve.example."}, nil},
		{"txt.serve.example", "TXT", "NOERROR", true, []string{`txt.serve.example. 3600 IN TXT "hello world" "second string"`}, nil},
		{"child.serve.example", "DS", "NOERROR", true, []string{"child.serve.example. 3600 IN DS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}, nil},
		{"alias2.serve.example", "A", "NOERROR", true, []string{"alias2.serve.example. 3600 IN CNAME alias.serve.example.",
			"alias.serve.example. 3600 IN CNAME www.serve.example.", "www.serve.example. 3600 IN A 192.0.2.80"}, nil},
		{"any.wild.serve.example", "TXT", "NOERROR", true, []string{`any.wild.serve.example. 3600 IN TXT "wildcard"`}, nil},
		// NODATA, empty non-terminal, NXDOMAIN: the SOA with TTL min(3600, 300).
		{"www.serve.example", "MX", "NOERROR", true, nil, []string{soa}},
		{"b.c.serve.example", "A", "NOERROR", true, nil, []string{soa}},
		{"nope.serve.example", "A", "NXDOMAIN", true, nil, []string{soa}},
		{"x.exists.wild.serve.example", "A", "NXDOMAIN", true, nil, []string{soa}},
		// A referral: AA clear.
		{"www.child.serve.example", "A", "NOERROR", false, nil, []string{child}},
		// Not ours, no forwarder.
		{"www.elsewhere.test", "A", "REFUSED", false, nil, nil},
	} {
		for _, tool := range []string{"dig", "kdig"} {
			for _, proto := range []string{"+notcp", "+tcp"} {
				got := testutil.DigAt(t, tool, "127.0.0.1", port, tc.name, tc.qtype, "+norec", proto)
				var want []string
				for _, s := range tc.answer {
					want = append(want, testutil.RR(t, s))
				}
				var wantNS []string
				for _, s := range tc.ns {
					wantNS = append(wantNS, testutil.RR(t, s))
				}
				slices.Sort(want)
				if got.Rcode != tc.rcode || got.Has("aa") != tc.aa || !slices.Equal(got.Answer, want) || !slices.Equal(got.NS, wantNS) {
					t.Errorf("%s %s %s %s:\n got %s aa=%v %q %q\nwant %s aa=%v %q %q", tool, proto, tc.name, tc.qtype,
						got.Rcode, got.Has("aa"), got.Answer, got.NS, tc.rcode, tc.aa, want, wantNS)
				}
			}
		}
	}
}

func TestServeTruncationAndTransfer(t *testing.T) {
	testutil.Program(t, "dig")
	testutil.Program(t, "kdig")
	port := serveOptions(t, Options{Zones: []ZoneFile{{Path: "testdata/serve.zone"}}, AllowTransfer: []string{"127.0.0.1"}})
	// No EDNS: 512 bytes, TC set; dig goes on over TCP by itself.
	got := testutil.DigAt(t, "dig", "127.0.0.1", port, "big.serve.example", "TXT", "+noedns", "+ignore")
	if !got.Has("tc") || got.Size > 512 {
		t.Errorf("+noedns +ignore: flags %v, %d bytes; want tc and at most 512", got.Flags, got.Size)
	}
	got = testutil.DigAt(t, "dig", "127.0.0.1", port, "big.serve.example", "TXT", "+noedns")
	if got.Has("tc") || len(got.Answer) != 6 {
		t.Errorf("dig retrying over TCP: flags %v, %d records", got.Flags, len(got.Answer))
	}
	got = testutil.DigAt(t, "kdig", "127.0.0.1", port, "big.serve.example", "TXT", "+bufsize=1232")
	if got.Has("tc") || len(got.Answer) != 6 {
		t.Errorf("kdig with a 1232-byte buffer: flags %v, %d records", got.Flags, len(got.Answer))
	}
	// AXFR: every record, the SOA at both ends.
	for _, tool := range []string{"dig", "kdig"} {
		out, err := exec.Command(tool, "-p", port, "@127.0.0.1", "serve.example", "AXFR").CombinedOutput()
		if err != nil {
			t.Fatalf("%s AXFR: %v", tool, err)
		}
		var n int
		for _, line := range strings.Split(string(out), "\n") {
			if line != "" && !strings.HasPrefix(line, ";") {
				n++
			}
		}
		if n != 37 || !strings.Contains(string(out), "SOA") {
			t.Errorf("%s AXFR: %d records, want 37 (36 and the closing SOA):\n%s", tool, n, out)
		}
	}
}

func TestServeRefusesTransfers(t *testing.T) {
	testutil.Program(t, "dig")
	port := serveOptions(t, Options{Zones: []ZoneFile{{Path: "testdata/serve.zone"}}})
	out, _ := exec.Command("dig", "-p", port, "@127.0.0.1", "serve.example", "AXFR").CombinedOutput()
	if !strings.Contains(string(out), "Transfer failed") || strings.Contains(string(out), "IN\tA") {
		t.Errorf("AXFR without AllowTransfer:\n%s", out)
	}
}
