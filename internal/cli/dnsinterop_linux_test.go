package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/netkit-dev/netkit/internal/testutil"
)

// startNSD runs NSD inside ns on 127.0.0.1:53, serving testdata's zone.
func startNSD(t *testing.T, ns *testutil.Netns) {
	nsd := testutil.Program(t, "nsd")
	dir := t.TempDir()
	zone, err := os.ReadFile("testdata/dns/test.example.zone")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "test.example.zone"), zone, 0o644)
	conf := filepath.Join(dir, "nsd.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`server:
	ip-address: 127.0.0.1
	username: ""
	chroot: ""
	zonesdir: %q
	pidfile: %q
	database: ""
	xfrdfile: %q
	zonelistfile: %q
	logfile: %q
remote-control:
	control-enable: no
zone:
	name: test.example
	zonefile: test.example.zone
`, dir, dir+"/nsd.pid", dir+"/xfrd.state", dir+"/zone.list", dir+"/nsd.log")), 0o644)
	cmd := ns.Command(nsd, "-d", "-c", conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for range 50 {
		if b, _ := os.ReadFile(dir + "/nsd.log"); strings.Contains(string(b), "nsd started") {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(dir + "/nsd.log")
	t.Fatalf("nsd did not start: %s", b)
}

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
	startNSD(t, ns)
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
