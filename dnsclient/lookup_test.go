package dnsclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/netkit-dev/netkit/internal/testutil"
)

// answer is a tiny authoritative handler for the tests' names.
func answer(w dns.ResponseWriter, q *dns.Msg) {
	r := new(dns.Msg)
	r.SetReply(q)
	name := q.Question[0].Name
	switch name {
	case "a.test.":
		rr, _ := dns.NewRR("a.test. 300 IN A 192.0.2.1")
		r.Answer = append(r.Answer, rr)
	case "big.test.":
		for i := range 100 {
			rr, _ := dns.NewRR(fmt.Sprintf("big.test. 300 IN TXT \"record %03d with some padding to make it long\"", i))
			r.Answer = append(r.Answer, rr)
		}
	case "nsid.test.":
		if opt := q.IsEdns0(); opt != nil {
			ro := r.SetEdns0(1232, false).IsEdns0()
			for _, o := range opt.Option {
				if o.Option() == dns.EDNS0NSID {
					ro.Option = append(ro.Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: fmt.Sprintf("%x", "ns1")})
				}
			}
		}
	default:
		r.Rcode = dns.RcodeNameError
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

func startDNS(t *testing.T, h dns.HandlerFunc) string { return testutil.DNS(t, h) }

func TestParseServer(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"192.0.2.53", "udp://192.0.2.53:53", ""},
		{"2001:db8::53", "udp://[2001:db8::53]:53", ""},
		{"[2001:db8::53]:5353", "udp://[2001:db8::53]:5353", ""},
		{"127.0.0.1:5353", "udp://127.0.0.1:5353", ""},
		{"tcp://127.0.0.1", "tcp://127.0.0.1:53", ""},
		{"tls://dns.example", "tls://dns.example:853", ""},
		{"https://dns.example", "https://dns.example/dns-query", ""},
		{"ns.example", "udp://ns.example:53", ""},
		{"ftp://x", "", "the scheme must be"},
		{"127.0.0.1:99999", "", "is not 1-65535"},
		{"udp://h/path", "", "without a path"},
		{"", "", "empty"},
	} {
		s, err := ParseServer(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), tc.in) {
				t.Errorf("ParseServer(%q) = %v, %v; want error %q", tc.in, s, err, tc.err)
			}
			continue
		}
		if err != nil || s.String() != tc.want {
			t.Errorf("ParseServer(%q) = %v, %v; want %s", tc.in, s, err, tc.want)
		}
	}
}

func TestExchange(t *testing.T) {
	addr := startDNS(t, answer)
	c := &Client{Servers: []Server{{Transport: UDP, Addr: addr}}, Timeout: time.Second, NSID: true}
	a, err := c.Exchange(context.Background(), c.NewQuery("a.test", dns.TypeA))
	if err != nil || len(a.Msg.Answer) != 1 || a.Transport != UDP || a.Retried {
		t.Fatalf("a.test: %+v %v", a, err)
	}
	// Truncated over UDP: asked again over TCP, all 100 records.
	a, err = c.Exchange(context.Background(), c.NewQuery("big.test", dns.TypeTXT))
	if err != nil || len(a.Msg.Answer) != 100 || a.Transport != TCP || !a.Retried || a.Msg.Truncated {
		t.Fatalf("big.test: %d records, %v, retried %v, err %v", len(a.Msg.Answer), a.Transport, a.Retried, err)
	}
	// NXDOMAIN is an answer, not an error.
	a, err = c.Exchange(context.Background(), c.NewQuery("nx.test", dns.TypeA))
	if err != nil || a.Msg.Rcode != dns.RcodeNameError {
		t.Fatalf("nx.test: %v %v", a, err)
	}
	a, _ = c.Exchange(context.Background(), c.NewQuery("nsid.test", dns.TypeA))
	if opt := a.Msg.IsEdns0(); opt == nil || len(opt.Option) != 1 {
		t.Errorf("no NSID in %v", a.Msg)
	}
}

// The first server never answers; the second does.
func TestFailover(t *testing.T) {
	dead := testutil.ListenPacket(t, "udp4") // reads nothing, answers nothing
	addr := startDNS(t, answer)
	c := &Client{Servers: []Server{{UDP, dead.LocalAddr().String(), ""}, {UDP, addr, ""}}, Timeout: 200 * time.Millisecond, Attempts: 1}
	a, err := c.Exchange(context.Background(), c.NewQuery("a.test", dns.TypeA))
	if err != nil || a.Server.Addr != addr {
		t.Fatalf("%+v %v", a, err)
	}
	c.Servers = c.Servers[:1]
	_, err = c.Exchange(context.Background(), c.NewQuery("a.test", dns.TypeA))
	var na *NoAnswerError
	if !errors.As(err, &na) || !strings.Contains(err.Error(), dead.LocalAddr().String()) {
		t.Errorf("err = %v, want one naming the dead server", err)
	}
}

// A reply with another ID or to another question is refused.
func TestMismatchedReplyRefused(t *testing.T) {
	var n atomic.Int32
	addr := startDNS(t, func(w dns.ResponseWriter, q *dns.Msg) {
		r := new(dns.Msg)
		r.SetReply(q)
		if n.Add(1)%2 == 1 {
			r.Question[0].Name = "other.test."
		}
		w.WriteMsg(r)
	})
	c := &Client{Servers: []Server{{TCP, addr, ""}}, Timeout: time.Second, Attempts: 1}
	if _, err := c.Exchange(context.Background(), c.NewQuery("a.test", dns.TypeA)); err == nil || !strings.Contains(err.Error(), "another question") {
		t.Errorf("err = %v", err)
	}
}

func TestDoTAndDoH(t *testing.T) {
	cert, pool := testutil.SelfSigned(t)
	l, err := tls.Listen("tcp4", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	s := &dns.Server{Listener: l, Net: "tcp-tls", Handler: dns.HandlerFunc(answer)}
	go s.ActivateAndServe()
	defer s.Shutdown()
	doh := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		q := new(dns.Msg)
		if r.Header.Get("Content-Type") != "application/dns-message" || q.Unpack(b) != nil {
			http.Error(w, "bad", 400)
			return
		}
		resp := new(dns.Msg)
		resp.SetReply(q)
		rr, _ := dns.NewRR(q.Question[0].Name + " 60 IN A 192.0.2.9")
		resp.Answer = append(resp.Answer, rr)
		out, _ := resp.Pack()
		w.Header().Set("Content-Type", "application/dns-message")
		w.Write(out)
	}))
	doh.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	doh.StartTLS()
	defer doh.Close()
	for _, srv := range []string{"tls://" + l.Addr().String(), doh.URL + "/dns-query"} {
		sv, err := ParseServer(srv)
		if err != nil {
			t.Fatal(err)
		}
		c := &Client{Servers: []Server{sv}, Timeout: 2 * time.Second, Attempts: 1, TLSConfig: &tls.Config{RootCAs: pool}}
		a, err := c.Exchange(context.Background(), c.NewQuery("a.test", dns.TypeA))
		if err != nil || len(a.Msg.Answer) != 1 {
			t.Errorf("%s: %v %v", srv, a, err)
		}
		// Unverified certificates fail.
		c.TLSConfig = nil
		if _, err := c.Exchange(context.Background(), c.NewQuery("a.test", dns.TypeA)); err == nil {
			t.Errorf("%s: an untrusted certificate was accepted", srv)
		}
	}
}

func TestNamesAndQuery(t *testing.T) {
	c := &Client{Search: []string{"example.", "corp.example"}, Ndots: 1}
	if got := fmt.Sprint(c.Names("www")); got != "[www.example. www.corp.example. www.]" {
		t.Errorf("Names(www) = %s", got)
	}
	if got := fmt.Sprint(c.Names("a.b")); got != "[a.b. a.b.example. a.b.corp.example.]" {
		t.Errorf("Names(a.b) = %s", got)
	}
	if got := fmt.Sprint(c.Names("abs.")); got != "[abs.]" {
		t.Errorf("Names(abs.) = %s", got)
	}
	c = &Client{DNSSEC: true, Subnet: netip.MustParsePrefix("192.0.2.0/24"), Cookie: true, NoRecurse: true}
	q := c.NewQuery("x.test", dns.TypeA)
	opt := q.IsEdns0()
	if q.RecursionDesired || opt == nil || !opt.Do() || opt.UDPSize() != 1232 || len(opt.Option) != 2 {
		t.Errorf("query %v", q)
	}
}

func TestSameNameAndToASCII(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		same bool
	}{
		{"Example.COM.", "example.com", true},
		{`a\032b.example.`, `a\ b.example.`, true},
		{`a\032b.example.`, `a\033b.example.`, false},
		{"\xc3\xbc.example.", `\195\188.example.`, true},  // raw UTF-8 and its escapes
		{"\xc3\xbc.example.", `\227\188.example.`, false}, // no case folding outside ASCII
	} {
		if got := sameName(tt.a, tt.b); got != tt.same {
			t.Errorf("sameName(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
	if a, err := ToASCII("ünïcode.example"); err != nil || a != "xn--ncode-cta3g.example" {
		t.Errorf("ToASCII = %q, %v", a, err)
	}
	if a, _ := ToASCII(`a\032b.example`); a != `a\032b.example` {
		t.Errorf("an ASCII name changed: %q", a)
	}
}

// TestBatchOrder: a batch's results come in the order of its queries,
// whatever order the answers arrive in.
func TestBatchOrder(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() { // answers the first query last
		buf := make([]byte, 512)
		type pending struct {
			m    *dns.Msg
			from net.Addr
		}
		var held []pending
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:n]) != nil {
				continue
			}
			r := new(dns.Msg)
			r.SetReply(q)
			held = append(held, pending{r, from})
			if len(held) == 3 {
				for i := len(held) - 1; i >= 0; i-- {
					b, _ := held[i].m.Pack()
					pc.WriteTo(b, held[i].from)
				}
				held = nil
			}
		}
	}()
	sv, _ := ParseServer(pc.LocalAddr().String())
	c := &Client{Servers: []Server{sv}, Timeout: 2 * time.Second, Attempts: 1, Search: []string{}}
	qs := []Query{{"one.test.", 1}, {"two.test.", 1}, {"three.test.", 1}}
	var got []string
	sum := c.Batch(context.Background(), qs, BatchOptions{Parallel: 3}, func(r BatchResult) { got = append(got, r.Query.Name) })
	if sum.Answered != 3 || strings.Join(got, " ") != "one.test. two.test. three.test." {
		t.Errorf("order %q, %d answered", got, sum.Answered)
	}
}
