package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/netkit-dev/netkit/internal/testutil"
)

// zoneHandler answers from a few records of test.example, with NXDOMAIN
// for other names and truncation over UDP.
func zoneHandler(t *testing.T) dns.HandlerFunc {
	var rrs []dns.RR
	for _, s := range []string{
		"www.test.example. 300 IN A 192.0.2.10",
		"www.test.example. 300 IN AAAA 2001:db8::10",
		"test.example. 300 IN MX 10 mail.test.example.",
		"10.2.0.192.in-addr.arpa. 300 IN PTR www.test.example.",
	} {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		rrs = append(rrs, rr)
	}
	for i := range 120 {
		rr, err := dns.NewRR("many.test.example. 300 IN A 198.51.100." + strconv.Itoa(i+1))
		if err != nil {
			t.Fatal(err)
		}
		rrs = append(rrs, rr)
	}
	return func(w dns.ResponseWriter, q *dns.Msg) {
		r := new(dns.Msg)
		r.SetReply(q)
		r.Authoritative = true
		qq := q.Question[0]
		known := false
		for _, rr := range rrs {
			if strings.EqualFold(rr.Header().Name, qq.Name) {
				known = true
				if rr.Header().Rrtype == qq.Qtype {
					r.Answer = append(r.Answer, rr)
				}
			}
		}
		if !known {
			r.Rcode = dns.RcodeNameError
		}
		if opt := q.IsEdns0(); opt != nil {
			r.SetEdns0(1232, opt.Do())
		}
		if w.LocalAddr().Network() == "udp" {
			size := 512
			if opt := q.IsEdns0(); opt != nil {
				size = int(opt.UDPSize())
			}
			r.Truncate(size)
		}
		w.WriteMsg(r)
	}
}

func TestDNSLookupMatchesDig(t *testing.T) {
	addr := testutil.DNS(t, zoneHandler(t))
	host, port, _ := strings.Cut(addr, ":")
	dig := testutil.Program(t, "dig")
	for _, q := range [][]string{
		{"www.test.example", "A"}, {"www.test.example", "AAAA"}, {"test.example", "MX"}, {"many.test.example", "A"},
	} {
		out, errOut, code := run(t, "dns", "lookup", q[0], q[1], "@"+addr, "--short")
		if code != 0 {
			t.Fatalf("%v: exit %d %s", q, code, errOut)
		}
		want, err := exec.Command(dig, "+short", "+norec", "-p", port, "@"+host, q[0], q[1]).Output()
		if err != nil {
			t.Fatal(err)
		}
		if sortLines(out) != sortLines(string(want)) {
			t.Errorf("%v: netkit %q, dig %q", q, out, want)
		}
	}
	// -x and the full dig-style output.
	out, _, code := run(t, "dns", "lookup", "-x", "192.0.2.10", "@"+addr)
	if code != 0 || !strings.Contains(out, "status: NOERROR") || !strings.Contains(out, "PTR\twww.test.example.") || !strings.Contains(out, ";; SERVER: "+strings.Replace(addr, ":", "#", 1)+"(udp)") {
		t.Errorf("-x: exit %d\n%s", code, out)
	}
	// Truncated over UDP, retried over TCP.
	out, _, _ = run(t, "dns", "lookup", "many.test.example", "@"+addr)
	if !strings.Contains(out, "Truncated, retrying in TCP mode") || strings.Count(out, "\tIN\tA\t198.51.100.") != 120 {
		t.Errorf("truncation:\n%s", out)
	}
	// NXDOMAIN is an answer: exit 0, and shown.
	out, _, code = run(t, "dns", "lookup", "nope.test.example", "@"+addr)
	if code != 0 || !strings.Contains(out, "status: NXDOMAIN") {
		t.Errorf("NXDOMAIN: exit %d\n%s", code, out)
	}
}

func TestDNSLookupJSON(t *testing.T) {
	addr := testutil.DNS(t, zoneHandler(t))
	out, errOut, code := run(t, "--json", "dns", "lookup", "www.test.example", "@tcp://"+addr, "--dnssec")
	if code != 0 {
		t.Fatalf("exit %d %s", code, errOut)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	ans := doc["answerRRs"].([]any)
	if doc["QNAME"] != "www.test.example." || doc["RCODE"] != 0.0 || doc["AA"] != 1.0 || len(ans) != 1 ||
		ans[0].(map[string]any)["rdataA"] != "192.0.2.10" || doc["EDNS"].(map[string]any)["DO"] != 1.0 || doc["transport"] != "tcp" {
		t.Errorf("%s", out)
	}
}

func TestDNSLookupErrors(t *testing.T) {
	dead := testutil.ListenPacket(t, "udp4")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"dns", "lookup", "x.test", "@" + dead.LocalAddr().String(), "--wait", "100ms", "--tries", "1"}, 1, "no server answered the query for x.test.: udp://" + dead.LocalAddr().String()},
		{[]string{"dns", "lookup", "x.test", "@ftp://x"}, 2, "the scheme must be"},
		{[]string{"dns", "lookup", "-x", "not-an-address", "@127.0.0.1"}, 2, "invalid -x"},
		{[]string{"dns", "lookup", "@127.0.0.1"}, 2, "needs a NAME"},
		{[]string{"dns", "lookup", strings.Repeat("a", 64) + ".test", "@127.0.0.1"}, 2, "invalid name"},
		{[]string{"dns", "lookup", "x.test", "--subnet", "nope", "@127.0.0.1"}, 2, "invalid --subnet"},
	} {
		_, errOut, code := run(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

func sortLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func TestDNSLookupTrace(t *testing.T) {
	ns, hints := testutil.DNSHierarchy(t)
	var out, errOut string
	var code int
	ns.Do(func() error {
		out, errOut, code = run(t, "dns", "lookup", "--trace", "--root-hints", hints, "www.other", "A")
		return nil
	})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		";; . from 127.0.0.2#53 in ",
		"referral to other. (ns.test.example.; 0 glue)",
		";; other. from 127.0.0.4#53 in ",
		"www.other.\t300\tIN\tA\t192.0.2.20",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%s", want, out)
		}
	}
	if _, errOut, code := run(t, "dns", "lookup", "--trace", "x.test", "@127.0.0.1"); code != 2 || !strings.Contains(errOut, "no @SERVER") {
		t.Errorf("--trace with @SERVER: exit %d %q", code, errOut)
	}
}

func TestDNSLookupBatch(t *testing.T) {
	addr := testutil.DNS(t, zoneHandler(t))
	in := "# queries\nwww.test.example\nwww.test.example AAAA\ntest.example MX\nnope.test.example\n"
	r := start(t, strings.NewReader(in), "dns", "lookup", "-f", "-", "@"+addr)
	if code := r.wait(t); code != 0 {
		t.Fatalf("exit %d: %s", code, r.err.String())
	}
	out := r.out.String()
	for _, want := range []string{"www.test.example\tA\tNOERROR\t", "\t192.0.2.10\n", "test.example\tMX\tNOERROR\t", "10 mail.test.example.", "nope.test.example\tA\tNXDOMAIN", ";; 4 queries in ", "4 answered, 0 failed; latency p50 "} {
		if !strings.Contains(out, want) {
			t.Errorf("batch output lacks %q:\n%s", want, out)
		}
	}
	f := filepath.Join(t.TempDir(), "q")
	os.WriteFile(f, []byte("ok.test\nbad line here\n"), 0o600)
	if _, errOut, code := run(t, "dns", "lookup", "-f", f, "@"+addr); code != 2 || !strings.Contains(errOut, f+`:2: "bad line here" is not "NAME [TYPE]"`) {
		t.Errorf("bad batch line: exit %d %q", code, errOut)
	}
}
