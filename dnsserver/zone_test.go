package dnsserver

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func loadTest(t *testing.T) *Server {
	t.Helper()
	zs, err := LoadZones([]ZoneFile{{Path: "testdata/example.zone"}})
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{}
	s.SetZones(zs)
	return s
}

func ask(t *testing.T, s *Server, name string, qtype uint16, do bool) *dns.Msg {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.SetEdns0(4096, do)
	r, _ := s.Answer(context.Background(), q, netip.MustParseAddrPort("127.0.0.1:9"), true)
	return r
}

// rrs renders a section as "name ttl type data" lines, sorted by nothing:
// the zone's order.
func rrs(section []dns.RR) string {
	var out []string
	for _, rr := range section {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		f := strings.Fields(rr.String())
		out = append(out, f[0]+" "+f[1]+" "+strings.Join(f[3:], " "))
	}
	return strings.Join(out, "; ")
}

func TestLookup(t *testing.T) {
	s := loadTest(t)
	soa := "example. 300 SOA ns1.example. hostmaster.example. 2026112101 7200 900 1209600 300"
	for _, tc := range []struct {
		name             string
		qtype            uint16
		rcode            int
		aa               bool
		answer, ns, extr string
	}{
		{"www.example.", dns.TypeA, dns.RcodeSuccess, true, "www.example. 3600 A 192.0.2.80; www.example. 3600 A 192.0.2.81", "", ""},
		{"WWW.Example.", dns.TypeAAAA, dns.RcodeSuccess, true, "www.example. 3600 AAAA 2001:db8::80", "", ""},
		// NODATA: the name exists, the type does not.
		{"www.example.", dns.TypeMX, dns.RcodeSuccess, true, "", soa, ""},
		// An empty non-terminal exists too.
		{"b.c.example.", dns.TypeA, dns.RcodeSuccess, true, "", soa, ""},
		{"nx.example.", dns.TypeA, dns.RcodeNameError, true, "", soa, ""},
		// CNAME chains are followed inside the zone.
		{"alias2.example.", dns.TypeA, dns.RcodeSuccess, true,
			"alias2.example. 3600 CNAME alias.example.; alias.example. 3600 CNAME www.example.; www.example. 3600 A 192.0.2.80; www.example. 3600 A 192.0.2.81", "", ""},
		{"alias.example.", dns.TypeCNAME, dns.RcodeSuccess, true, "alias.example. 3600 CNAME www.example.", "", ""},
		{"loop1.example.", dns.TypeA, dns.RcodeSuccess, true, "loop1.example. 3600 CNAME loop2.example.; loop2.example. 3600 CNAME loop1.example.", "", ""},
		{"outside.example.", dns.TypeA, dns.RcodeSuccess, true, "outside.example. 3600 CNAME www.elsewhere.test.", "", ""},
		// Wildcards (RFC 4592): synthesised with the name asked.
		{"foo.wild.example.", dns.TypeA, dns.RcodeSuccess, true, "foo.wild.example. 3600 A 192.0.2.99", "", ""},
		{"a.b.wild.example.", dns.TypeTXT, dns.RcodeSuccess, true, `a.b.wild.example. 3600 TXT "wildcard"`, "", ""},
		{"foo.wild.example.", dns.TypeMX, dns.RcodeSuccess, true, "", soa, ""},
		{"exists.wild.example.", dns.TypeTXT, dns.RcodeSuccess, true, "", soa, ""},
		// The closest encloser is exists.wild: *.wild does not apply.
		{"x.exists.wild.example.", dns.TypeA, dns.RcodeNameError, true, "", soa, ""},
		{"x.cname.example.", dns.TypeA, dns.RcodeSuccess, true, "x.cname.example. 3600 CNAME www.example.; www.example. 3600 A 192.0.2.80; www.example. 3600 A 192.0.2.81", "", ""},
		// Referrals: AA clear, NS in authority, glue in additional.
		{"a.b.child.example.", dns.TypeA, dns.RcodeSuccess, false, "",
			"child.example. 3600 NS ns.child.example.; child.example. 3600 NS ns.elsewhere.test.", "ns.child.example. 3600 A 192.0.2.200"},
		{"child.example.", dns.TypeNS, dns.RcodeSuccess, false, "",
			"child.example. 3600 NS ns.child.example.; child.example. 3600 NS ns.elsewhere.test.", "ns.child.example. 3600 A 192.0.2.200"},
		{"ns.child.example.", dns.TypeA, dns.RcodeSuccess, false, "",
			"child.example. 3600 NS ns.child.example.; child.example. 3600 NS ns.elsewhere.test.", "ns.child.example. 3600 A 192.0.2.200"},
		// Additional addresses for MX and SRV targets.
		{"example.", dns.TypeMX, dns.RcodeSuccess, true, "example. 3600 MX 10 mail.example.", "", "mail.example. 3600 A 192.0.2.25"},
		{"_sip._tcp.example.", dns.TypeSRV, dns.RcodeSuccess, true, "_sip._tcp.example. 3600 SRV 10 60 5060 www.example.", "",
			"www.example. 3600 A 192.0.2.80; www.example. 3600 A 192.0.2.81; www.example. 3600 AAAA 2001:db8::80"},
		// $GENERATE and $INCLUDE with its own origin and TTL.
		{"host17.example.", dns.TypeA, dns.RcodeSuccess, true, "host17.example. 3600 A 198.51.100.17", "", ""},
		{"two.sub.example.", dns.TypeA, dns.RcodeSuccess, true, "two.sub.example. 60 A 203.0.113.2", "", ""},
		{"host21.example.", dns.TypeA, dns.RcodeNameError, true, "", soa, ""},
		// Outside every zone, with no forwarder.
		{"www.elsewhere.test.", dns.TypeA, dns.RcodeRefused, false, "", "", ""},
	} {
		r := ask(t, s, tc.name, tc.qtype, false)
		got := []string{dns.RcodeToString[r.Rcode], rrs(r.Answer), rrs(r.Ns), rrs(r.Extra)}
		want := []string{dns.RcodeToString[tc.rcode], tc.answer, tc.ns, tc.extr}
		if strings.Join(got, "\n") != strings.Join(want, "\n") || r.Authoritative != tc.aa {
			t.Errorf("%s %s:\n got %s aa=%v\n  %q\nwant %s aa=%v\n  %q", tc.name, dns.TypeToString[tc.qtype],
				got[0], r.Authoritative, got[1:], want[0], tc.aa, want[1:])
		}
	}
}

func TestLoadZoneErrors(t *testing.T) {
	dir := t.TempDir()
	head := "$ORIGIN test.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n"
	for _, tc := range []struct{ body, want string }{
		{"www A 192.0.2.300\n", "line: 6"},
		{"www CNAME a\nwww A 192.0.2.1\n", "a CNAME must stand alone"},
		{"www CNAME a\nwww CNAME b\n", "may have only one"},
		{"www.other. A 192.0.2.1\n", "outside the zone test."},
		{"sub SOA ns h 1 2 3 4 5\n", "not the apex"},
		{"$INCLUDE missing.inc\n", "missing.inc"},
		{"www CH A 192.0.2.1\n", ""},
	} {
		path := filepath.Join(dir, "z.zone")
		os.WriteFile(path, []byte(head+tc.body), 0o600)
		_, err := LoadZone(path, "")
		if err == nil {
			t.Errorf("zone with %q loaded", tc.body)
			continue
		}
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("zone with %q: error %q; want the file and %q", tc.body, err, tc.want)
		}
	}
	os.WriteFile(filepath.Join(dir, "nosoa.zone"), []byte("$ORIGIN test.\nwww 60 A 192.0.2.1\n"), 0o600)
	if _, err := LoadZone(filepath.Join(dir, "nosoa.zone"), ""); err == nil || !strings.Contains(err.Error(), "no SOA") {
		t.Errorf("a zone without SOA: %v", err)
	}
	a, _ := ParseZone(strings.NewReader(head), "", "a")
	b, _ := ParseZone(strings.NewReader(head), "", "b")
	if _, err := NewZones(a, b); err == nil || !strings.Contains(err.Error(), "in both a and b") {
		t.Errorf("two files with one zone: %v", err)
	}
}

func TestRecordsAndSetTTL(t *testing.T) {
	z, err := ParseZone(strings.NewReader("$ORIGIN test.\n@ 60 SOA ns h 1 2 3 4 5\n@ 60 NS ns\nns 60 A 192.0.2.1\nns 30 A 192.0.2.2\nns 60 A 192.0.2.1\n"), "", "t")
	if err != nil {
		t.Fatal(err)
	}
	got := rrs(z.Records())
	// The duplicate is dropped and the set takes its lowest TTL (RFC 2181).
	want := "test. 60 SOA ns.test. h.test. 1 2 3 4 5; test. 60 NS ns.test.; ns.test. 30 A 192.0.2.1; ns.test. 30 A 192.0.2.2"
	if got != want || z.Len() != 4 {
		t.Errorf("Records() = %q (%d)\nwant %q", got, z.Len(), want)
	}
}

func TestDNSSECRecords(t *testing.T) {
	zone := `$ORIGIN signed.
$TTL 60
@ SOA ns h 1 2 3 4 30
@ NS ns
ns A 192.0.2.1
ns RRSIG A 13 2 60 20301231000000 20260101000000 12345 signed. c2lnbmF0dXJl
@ RRSIG SOA 13 1 60 20301231000000 20260101000000 12345 signed. c2lnbmF0dXJl
`
	z, err := ParseZone(strings.NewReader(zone), "", "signed")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{}
	zs, _ := NewZones(z)
	s.SetZones(zs)
	if r := ask(t, s, "ns.signed.", dns.TypeA, false); len(r.Answer) != 1 {
		t.Errorf("without DO: %s", rrs(r.Answer))
	}
	if r := ask(t, s, "ns.signed.", dns.TypeA, true); len(r.Answer) != 2 || r.Answer[1].Header().Rrtype != dns.TypeRRSIG {
		t.Errorf("with DO: %s", rrs(r.Answer))
	}
	r := ask(t, s, "nx.signed.", dns.TypeA, true)
	if len(r.Ns) != 2 || r.Ns[1].Header().Rrtype != dns.TypeRRSIG || r.Ns[1].Header().Ttl != 30 {
		t.Errorf("NXDOMAIN with DO: %s", rrs(r.Ns))
	}
}
