package mail

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/netkit-dev/netkit/internal/testutil"
)

// lookupMX against a DNS server of the test's own: preference order, a
// domain without MX records as its own host, and a null MX.
func TestLookupMX(t *testing.T) {
	addr := testutil.DNS(t, dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		q := r.Question[0]
		switch {
		case q.Qtype == dns.TypeMX && q.Name == "example.org.":
			for _, s := range []string{"example.org. 300 IN MX 20 backup.example.org.", "example.org. 300 IN MX 10 mx.example.org."} {
				rr, _ := dns.NewRR(s)
				m.Answer = append(m.Answer, rr)
			}
		case q.Qtype == dns.TypeMX && q.Name == "nomail.example.":
			rr, _ := dns.NewRR("nomail.example. 300 IN MX 0 .")
			m.Answer = append(m.Answer, rr)
		case q.Name == "plain.example.":
			if q.Qtype == dns.TypeA {
				rr, _ := dns.NewRR("plain.example. 300 IN A 192.0.2.25")
				m.Answer = append(m.Answer, rr)
			}
		default:
			m.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(m)
	}))
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	ctx := context.Background()
	got, err := lookupMX(ctx, r, "example.org")
	if err != nil || strings.Join(got, " ") != "mx.example.org:25 backup.example.org:25" {
		t.Errorf("example.org: %v %v", got, err)
	}
	if _, err := lookupMX(ctx, r, "nomail.example"); err == nil || !strings.Contains(err.Error(), "null MX") {
		t.Errorf("a null MX: %v", err)
	}
	if got, err := lookupMX(ctx, r, "plain.example"); err != nil || strings.Join(got, " ") != "plain.example:25" {
		t.Errorf("no MX: %v %v", got, err)
	}
}
