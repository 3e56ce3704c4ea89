package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/miekg/dns"
	"github.com/netkit-dev/netkit/internal/testutil"
)

// digResult is what dig or kdig printed, normalised through miekg/dns.
type digResult struct {
	rcode      string
	flags      []string
	answer, ns []string
	size       int
}

var (
	digStatus = regexp.MustCompile(`status: ([A-Z]+)`)
	digFlags  = regexp.MustCompile(`(?i);; flags: ([a-z ]*);`)
	digSize   = regexp.MustCompile(`(?:MSG SIZE\s+rcvd: |Received )(\d+) B?`)
)

// parseDig reads the output of dig or kdig.
func parseDig(t *testing.T, out string) digResult {
	t.Helper()
	var r digResult
	if m := digStatus.FindStringSubmatch(out); m != nil {
		r.rcode = m[1]
	}
	if m := digFlags.FindStringSubmatch(out); m != nil {
		r.flags = strings.Fields(m[1])
	}
	if m := digSize.FindAllStringSubmatch(out, -1); m != nil {
		fmt.Sscan(m[len(m)-1][1], &r.size)
	}
	section := ""
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.Contains(line, "ANSWER SECTION"):
			section = "answer"
		case strings.Contains(line, "AUTHORITY SECTION"):
			section = "authority"
		case strings.Contains(line, "SECTION"):
			section = ""
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, ";"):
		case section != "":
			rr, err := dns.NewRR(line)
			if err != nil {
				t.Fatalf("record line %q: %v", line, err)
			}
			if section == "answer" {
				r.answer = append(r.answer, canonicalRR(t, rr))
			} else {
				r.ns = append(r.ns, canonicalRR(t, rr))
			}
		}
	}
	slices.Sort(r.answer)
	slices.Sort(r.ns)
	return r
}

func (r digResult) has(flag string) bool { return slices.Contains(r.flags, flag) }

// digAt asks host:port with dig or kdig.
func digAt(t *testing.T, tool, host, port, name, qtype string, opts ...string) digResult {
	t.Helper()
	args := append([]string{"-p", port, "@" + host, name, qtype}, opts...)
	out, err := exec.Command(tool, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
	}
	return parseDig(t, string(out))
}

// startDNSServe runs netkit dns serve on a free loopback port and returns
// the port.
func startDNSServe(t *testing.T, args ...string) (*running, string) {
	t.Helper()
	r := start(t, nil, append([]string{"dns", "serve", "--listen", "127.0.0.1:0"}, args...)...)
	return r, find(t, r.out, `udp://127\.0\.0\.1:(\d+)`)
}

func rr(t *testing.T, s string) string {
	t.Helper()
	x, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return canonicalRR(t, x)
}

// canonicalRR prints a record as its wire form reads back, so that
// presentation details (hex letter case) do not count.
func canonicalRR(t *testing.T, x dns.RR) string {
	t.Helper()
	buf := make([]byte, 65535)
	off, err := dns.PackRR(x, buf, 0, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	y, _, err := dns.UnpackRR(buf[:off], 0)
	if err != nil {
		t.Fatal(err)
	}
	return y.String()
}

// Every record type in the test zone and every rcode, asked with dig and
// kdig, over UDP and TCP.
func TestDNSServeWithDigAndKdig(t *testing.T) {
	testutil.Program(t, "dig")
	testutil.Program(t, "kdig")
	_, port := startDNSServe(t, "--zone", "testdata/dns/serve.zone")
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
				got := digAt(t, tool, "127.0.0.1", port, tc.name, tc.qtype, "+norec", proto)
				var want []string
				for _, s := range tc.answer {
					want = append(want, rr(t, s))
				}
				var wantNS []string
				for _, s := range tc.ns {
					wantNS = append(wantNS, rr(t, s))
				}
				slices.Sort(want)
				if got.rcode != tc.rcode || got.has("aa") != tc.aa || !slices.Equal(got.answer, want) || !slices.Equal(got.ns, wantNS) {
					t.Errorf("%s %s %s %s:\n got %s aa=%v %q %q\nwant %s aa=%v %q %q", tool, proto, tc.name, tc.qtype,
						got.rcode, got.has("aa"), got.answer, got.ns, tc.rcode, tc.aa, want, wantNS)
				}
			}
		}
	}
}

func TestDNSServeTruncationAndTransfer(t *testing.T) {
	testutil.Program(t, "dig")
	testutil.Program(t, "kdig")
	_, port := startDNSServe(t, "--zone", "testdata/dns/serve.zone", "--allow-transfer", "127.0.0.1")
	// No EDNS: 512 bytes, TC set; dig goes on over TCP by itself.
	got := digAt(t, "dig", "127.0.0.1", port, "big.serve.example", "TXT", "+noedns", "+ignore")
	if !got.has("tc") || got.size > 512 {
		t.Errorf("+noedns +ignore: flags %v, %d bytes; want tc and at most 512", got.flags, got.size)
	}
	got = digAt(t, "dig", "127.0.0.1", port, "big.serve.example", "TXT", "+noedns")
	if got.has("tc") || len(got.answer) != 6 {
		t.Errorf("dig retrying over TCP: flags %v, %d records", got.flags, len(got.answer))
	}
	got = digAt(t, "kdig", "127.0.0.1", port, "big.serve.example", "TXT", "+bufsize=1232")
	if got.has("tc") || len(got.answer) != 6 {
		t.Errorf("kdig with a 1232-byte buffer: flags %v, %d records", got.flags, len(got.answer))
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

func TestDNSServeRefusesTransfers(t *testing.T) {
	testutil.Program(t, "dig")
	_, port := startDNSServe(t, "--zone", "testdata/dns/serve.zone")
	out, _ := exec.Command("dig", "-p", port, "@127.0.0.1", "serve.example", "AXFR").CombinedOutput()
	if !strings.Contains(string(out), "Transfer failed") || strings.Contains(string(out), "IN\tA") {
		t.Errorf("AXFR without --allow-transfer:\n%s", out)
	}
}

func TestDNSServeReload(t *testing.T) {
	testutil.Program(t, "dig")
	dir := t.TempDir()
	zone := filepath.Join(dir, "r.zone")
	write := func(serial int, www string) {
		os.WriteFile(zone, []byte(fmt.Sprintf("$ORIGIN r.test.\n$TTL 60\n@ SOA ns h %d 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nwww A %s\n", serial, www)), 0o600)
	}
	write(1, "192.0.2.10")
	r, port := startDNSServe(t, "--zone", zone)
	answer := func() []string { return digAt(t, "dig", "127.0.0.1", port, "www.r.test", "A").answer }
	if a := answer(); len(a) != 1 || !strings.Contains(a[0], "192.0.2.10") {
		t.Fatalf("before reload: %q", a)
	}
	// A broken file: the error names the file and line; the old data stays.
	write(2, "192.0.2.300")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	find(t, r.err, `reload failed, still serving the old zones: `+regexp.QuoteMeta(zone)+`: .*line: 6`)
	if a := answer(); len(a) != 1 || !strings.Contains(a[0], "192.0.2.10") {
		t.Errorf("after a failed reload: %q", a)
	}
	write(3, "192.0.2.11")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	find(t, r.out, `zone r\.test\. serial 3`)
	if a := answer(); len(a) != 1 || !strings.Contains(a[0], "192.0.2.11") {
		t.Errorf("after reload: %q", a)
	}
}

func TestDNSServeBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.zone")
	os.WriteFile(bad, []byte("$ORIGIN b.test.\n@ 60 SOA ns h 1 2 3 4 5\n@ 60 NS ns\nns 60 A 192.0.2.999\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--zone", bad}, bad + ": dns: bad A A: \"192.0.2.999\" at line: 4"},
		{[]string{"--zone", filepath.Join(dir, "missing.zone")}, "missing.zone: no such file"},
		{nil, "needs something to serve"},
		{[]string{"--zone", "testdata/dns/serve.zone", "--listen", "localhost:53"}, "literal address"},
		{[]string{"--forward", "ftp://x"}, "the scheme must be"},
		{[]string{"--forward", "127.0.0.1", "--udp-size", "100"}, "below 512"},
		{[]string{"--forward", "127.0.0.1", "--allow-transfer", "300.0.0.1"}, "300.0.0.1"},
	} {
		_, errOut, code := run(t, append([]string{"dns", "serve"}, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("dns serve %q: exit %d %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

func TestDNSServeForwardsAndLogs(t *testing.T) {
	upstream := testutil.DNS(t, zoneHandler(t))
	r, port := startDNSServe(t, "--forward", upstream, "--json", "--query-log")
	for range 2 {
		out, errOut, code := run(t, "dns", "lookup", "--short", "www.test.example", "@127.0.0.1:"+port)
		if code != 0 || strings.TrimSpace(out) != "192.0.2.10" {
			t.Fatalf("through the forwarder: exit %d %q %q", code, out, errOut)
		}
	}
	find(t, r.out, `"event":"query".*"name":"www.test.example.","type":"A","rcode":"NOERROR","flags":"rd ra".*"source":"upstream"`)
	find(t, r.out, `"event":"query".*"source":"(cache|fast)"`)
}
