package dnsserver

import (
	"slices"
	"testing"

	"github.com/netkit-dev/netkit/internal/testutil"
)

// Serve and NSD, serving one zone, give dig the same answers.
func TestServeMatchesNSD(t *testing.T) {
	testutil.Program(t, "dig")
	ns := testutil.NewNetns(t)
	testutil.NSDZone(t, ns, "serve.example", "testdata/serve.zone")
	port := serveOptions(t, Options{Zones: []ZoneFile{{Path: "testdata/serve.zone"}}})
	for _, q := range [][2]string{
		{"serve.example", "SOA"}, {"serve.example", "NS"}, {"serve.example", "MX"}, {"serve.example", "TXT"},
		{"serve.example", "CAA"}, {"www.serve.example", "A"}, {"www.serve.example", "AAAA"},
		{"_sip._tcp.serve.example", "SRV"}, {"ptr.serve.example", "PTR"}, {"hinfo.serve.example", "HINFO"},
		{"sshfp.serve.example", "SSHFP"}, {"_443._tcp.www.serve.example", "TLSA"}, {"naptr.serve.example", "NAPTR"},
		{"loc.serve.example", "LOC"}, {"rp.serve.example", "RP"}, {"txt.serve.example", "TXT"},
		{"alias.serve.example", "A"}, {"alias2.serve.example", "AAAA"}, {"alias.serve.example", "CNAME"},
		{"foo.wild.serve.example", "A"}, {"foo.bar.wild.serve.example", "TXT"}, {"foo.wild.serve.example", "MX"},
		{"exists.wild.serve.example", "TXT"}, {"x.exists.wild.serve.example", "A"},
		{"www.serve.example", "MX"}, {"b.c.serve.example", "A"}, {"c.serve.example", "TXT"}, {"nope.serve.example", "A"},
		{"child.serve.example", "DS"}, {"www.child.serve.example", "A"}, {"child.serve.example", "NS"},
		{"big.serve.example", "TXT"},
	} {
		out, err := ns.Command("dig", "+norec", "@127.0.0.1", q[0], q[1]).CombinedOutput()
		if err != nil {
			t.Fatalf("dig NSD %v: %v", q, err)
		}
		want := testutil.ParseDig(t, string(out))
		got := testutil.DigAt(t, "dig", "127.0.0.1", port, q[0], q[1], "+norec")
		if want.Rcode == "" || want.Rcode == "REFUSED" {
			t.Fatalf("NSD did not serve %v: %s", q, out)
		}
		// NSD adds its NS set to the authority of positive answers; we send
		// minimal answers (as NSD does with minimal-responses), so the
		// authority section is compared where it carries the answer: for
		// negative answers and referrals.
		if len(want.Answer) > 0 {
			want.NS, got.NS = nil, nil
		}
		if got.Rcode != want.Rcode || got.Has("aa") != want.Has("aa") || !slices.Equal(got.Answer, want.Answer) || !slices.Equal(got.NS, want.NS) {
			t.Errorf("%v:\nnetkit %s %v %q %q\nnsd    %s %v %q %q", q, got.Rcode, got.Flags, got.Answer, got.NS, want.Rcode, want.Flags, want.Answer, want.NS)
		}
	}
}
