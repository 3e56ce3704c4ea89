package testutil

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// authority answers for its zones from records, and refers names below
// its delegations to them, with the glue it has.
func authority(t testing.TB, zones []string, lines ...string) dns.HandlerFunc {
	var rrs []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatal(err)
		}
		rrs = append(rrs, rr)
	}
	return func(w dns.ResponseWriter, q *dns.Msg) {
		r := new(dns.Msg)
		r.SetReply(q)
		qn := strings.ToLower(q.Question[0].Name)
		// The deepest delegation (an NS set not at a zone apex) above qn.
		cut := ""
		for _, rr := range rrs {
			o := rr.Header().Name
			if rr.Header().Rrtype == dns.TypeNS && !contains(zones, o) && dns.IsSubDomain(o, qn) && len(o) > len(cut) {
				cut = o
			}
		}
		if cut != "" {
			for _, rr := range rrs {
				if ns, ok := rr.(*dns.NS); ok && ns.Hdr.Name == cut {
					r.Ns = append(r.Ns, rr)
					for _, g := range rrs {
						if g.Header().Name == ns.Ns && g.Header().Rrtype == dns.TypeA {
							r.Extra = append(r.Extra, g)
						}
					}
				}
			}
			w.WriteMsg(r)
			return
		}
		r.Authoritative = true
		found := false
		for _, rr := range rrs {
			if rr.Header().Name == qn {
				found = true
				if rr.Header().Rrtype == q.Question[0].Qtype || rr.Header().Rrtype == dns.TypeCNAME {
					r.Answer = append(r.Answer, rr)
				}
			}
		}
		if !found {
			r.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(r)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// DNSHierarchy starts a root, a TLD and an authoritative server on
// 127.0.0.2, .3 and .4, port 53, inside a new namespace, and returns the
// namespace with a root hints file naming the root. The root delegates
// example. (with glue) and other. (glueless, served by ns.test.example);
// example. delegates test.example.; the last server answers
// www.test.example A 192.0.2.10, www.other A 192.0.2.20 and
// alias.other CNAME www.test.example.
func DNSHierarchy(t testing.TB) (*Netns, string) {
	t.Helper()
	ns := NewNetns(t)
	servers := map[string]dns.HandlerFunc{
		"127.0.0.2": authority(t, []string{"."},
			"example. 3600 IN NS a.nic.example.", "a.nic.example. 3600 IN A 127.0.0.3",
			"other. 3600 IN NS ns.test.example."), // glueless
		"127.0.0.3": authority(t, []string{"example."},
			"test.example. 3600 IN NS ns.test.example.", "ns.test.example. 3600 IN A 127.0.0.4"),
		"127.0.0.4": authority(t, []string{"test.example.", "other."},
			"www.test.example. 300 IN A 192.0.2.10", "ns.test.example. 300 IN A 127.0.0.4",
			"www.other. 300 IN A 192.0.2.20", "alias.other. 300 IN CNAME www.test.example."),
	}
	for addr, h := range servers {
		err := ns.Do(func() error {
			pc, err := net.ListenPacket("udp4", addr+":53")
			if err != nil {
				return err
			}
			l, err := net.Listen("tcp4", addr+":53")
			if err != nil {
				return err
			}
			for _, s := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}} {
				go s.ActivateAndServe()
				t.Cleanup(func() { s.Shutdown() })
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	hints := filepath.Join(t.TempDir(), "root.hints")
	os.WriteFile(hints, []byte(".  3600000 NS a.root.test.\na.root.test. 3600000 A 127.0.0.2\n"), 0o600)
	time.Sleep(50 * time.Millisecond) // the servers start
	return ns, hints
}
