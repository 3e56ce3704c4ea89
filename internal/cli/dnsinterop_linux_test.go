package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/netkit-dev/netkit/dnsserver"
	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/internal/testutil"
	"github.com/netkit-dev/netkit/server"
)

// digSections runs dig and returns its rcode, AA flag and the answer and
// authority records, normalised through miekg/dns.
func digSections(t *testing.T, ns *testutil.Netns, name, qtype string) (string, bool, []string, []string) {
	out, err := ns.Command("dig", "+norec", "+noall", "+comments", "+answer", "+authority", "@127.0.0.1", name, qtype).Output()
	if err != nil {
		t.Fatalf("dig %s %s: %v", name, qtype, err)
	}
	var rcode string
	var aa bool
	var ans, auth []string
	section := ""
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.Contains(line, "status: "):
			rcode = strings.TrimSuffix(strings.Fields(strings.SplitN(line, "status: ", 2)[1])[0], ",")
		case strings.HasPrefix(line, ";; flags:"):
			aa = strings.Contains(strings.SplitN(line, ";", 4)[2], " aa")
		case strings.HasPrefix(line, ";; ANSWER SECTION"):
			section = "answer"
		case strings.HasPrefix(line, ";; AUTHORITY SECTION"):
			section = "authority"
		case line == "" || strings.HasPrefix(line, ";"):
		default:
			rr, err := dns.NewRR(line)
			if err != nil {
				t.Fatalf("dig line %q: %v", line, err)
			}
			if section == "answer" {
				ans = append(ans, rr.String())
			} else {
				auth = append(auth, rr.String())
			}
		}
	}
	slices.Sort(ans)
	slices.Sort(auth)
	return rcode, aa, ans, auth
}

// Our client and dig, asking NSD the same questions, agree field by field.
func TestDNSLookupAgainstNSD(t *testing.T) {
	testutil.Program(t, "dig")
	ns := testutil.NewNetns(t)
	testutil.NSDZone(t, ns, "test.example", "testdata/dns/test.example.zone")
	for i, q := range [][2]string{
		{"www.test.example", "A"}, {"www.test.example", "AAAA"}, {"test.example", "MX"}, {"test.example", "NS"},
		{"test.example", "SOA"}, {"txt.test.example", "TXT"}, {"alias.test.example", "A"}, {"_sip._tcp.test.example", "SRV"},
		{"nope.test.example", "A"}, {"www.test.example", "MX"}, {"other.example", "A"},
	} {
		rcode, aa, wantAns, wantAuth := digSections(t, ns, q[0], q[1])
		// The comparison means something only if dig saw what the zone holds.
		switch {
		case i < 8 && (rcode != "NOERROR" || len(wantAns) == 0 || !aa),
			i == 8 && (rcode != "NXDOMAIN" || len(wantAuth) != 1),
			i == 9 && (rcode != "NOERROR" || len(wantAns) != 0 || len(wantAuth) != 1),
			i == 10 && rcode != "REFUSED":
			t.Fatalf("%v: dig saw %s aa=%v %q %q", q, rcode, aa, wantAns, wantAuth)
		}
		var out, errOut string
		var code int
		ns.Do(func() error {
			out, errOut, code = run(t, "--json", "dns", "lookup", "--norecurse", q[0], q[1], "@127.0.0.1")
			return nil
		})
		if code != 0 {
			t.Fatalf("%v: exit %d %s", q, code, errOut)
		}
		var doc struct {
			RcodeName string           `json:"rcodeName"`
			AA        int              `json:"AA"`
			Answer    []map[string]any `json:"answerRRs"`
			Authority []map[string]any `json:"authorityRRs"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		norm := func(list []map[string]any) []string {
			var s []string
			for _, e := range list {
				for k, v := range e {
					if strings.HasPrefix(k, "rdata") {
						rr, err := dns.NewRR(fmt.Sprintf("%s %v IN %s %s", e["NAME"], e["TTL"], e["TYPEname"], v))
						if err != nil {
							t.Fatalf("our record %v: %v", e, err)
						}
						s = append(s, rr.String())
					}
				}
			}
			slices.Sort(s)
			return s
		}
		gotAns, gotAuth := norm(doc.Answer), norm(doc.Authority)
		if doc.RcodeName != rcode || (doc.AA == 1) != aa || !slices.Equal(gotAns, wantAns) || !slices.Equal(gotAuth, wantAuth) {
			t.Errorf("%v:\nnetkit %s aa=%d %q %q\ndig    %s aa=%v %q %q", q, doc.RcodeName, doc.AA, gotAns, gotAuth, rcode, aa, wantAns, wantAuth)
		}
	}
}

// ourHierarchy serves a root, a TLD and an authoritative zone with our own
// server, on 127.0.0.2, .3 and .4 port 53 inside ns, and returns a root
// hints file.
func ourHierarchy(t *testing.T, ns *testutil.Netns) string {
	head := func(origin, ns string) string {
		return fmt.Sprintf("$ORIGIN %s\n$TTL 3600\n@ SOA %s hostmaster.test. 1 7200 900 1209600 300\n@ NS %s\n", origin, ns, ns)
	}
	servers := map[string][]string{
		"127.0.0.2": {head(".", "a.root.") + "a.root. A 127.0.0.2\n" +
			"example. NS a.nic.example.\na.nic.example. A 127.0.0.3\n" +
			"other. NS ns.test.example.\n"}, // glueless
		"127.0.0.3": {head("example.", "a.nic.example.") + "a.nic A 127.0.0.3\n" +
			"test NS ns.test\nns.test A 127.0.0.4\n"},
		"127.0.0.4": {head("test.example.", "ns.test.example.") + "ns A 127.0.0.4\nwww 300 A 192.0.2.10\n",
			head("other.", "ns.test.example.") + "www 300 A 192.0.2.20\nalias 300 CNAME www.test.example.\n"},
	}
	for addr, texts := range servers {
		var zs []*dnsserver.Zone
		for i, text := range texts {
			z, err := dnsserver.ParseZone(strings.NewReader(text), "", fmt.Sprintf("%s-%d", addr, i))
			if err != nil {
				t.Fatal(err)
			}
			zs = append(zs, z)
		}
		set, err := dnsserver.NewZones(zs...)
		if err != nil {
			t.Fatal(err)
		}
		srv := &dnsserver.Server{}
		srv.SetZones(set)
		var l net.Listener
		var pc net.PacketConn
		err = ns.Do(func() (err error) {
			var lc endpoint.ListenConfig
			l, pc, err = lc.ListenBoth(context.Background(), "tcp4", addr+":53")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		tcp := srv.TCPServer(server.Config{})
		done := make(chan struct{}, 2)
		go func() { srv.ServeUDP(ctx, pc.(*net.UDPConn), 1); done <- struct{}{} }()
		go func() { tcp.Serve(ctx, l); done <- struct{}{} }()
		t.Cleanup(func() { cancel(); pc.Close(); <-done; <-done })
	}
	hints := filepath.Join(t.TempDir(), "root.hints")
	os.WriteFile(hints, []byte(".  3600000 NS a.root.\na.root. 3600000 A 127.0.0.2\n"), 0o600)
	return hints
}

// --trace walks a hierarchy of our own servers: a glueless delegation, then
// a CNAME out of the zone, resolved from the root again.
func TestDNSTraceThroughOurServers(t *testing.T) {
	ns := testutil.NewNetns(t)
	hints := ourHierarchy(t, ns)
	var out, errOut string
	var code int
	ns.Do(func() error {
		out, errOut, code = run(t, "dns", "lookup", "--trace", "--root-hints", hints, "alias.other", "A")
		return nil
	})
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	for _, want := range []string{
		";; . from 127.0.0.2#53 in ",
		"referral to other. (ns.test.example.; 0 glue)",
		";; other. from 127.0.0.4#53 in ",
		"alias.other.\t300\tIN\tCNAME\twww.test.example.",
		"referral to example. (a.nic.example.; 1 glue)",
		"referral to test.example. (ns.test.example.; 1 glue)",
		";; test.example. from 127.0.0.4#53 in ",
		"www.test.example.\t300\tIN\tA\t192.0.2.10",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%s", want, out)
		}
	}
}
