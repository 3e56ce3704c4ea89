package dnsclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/endpoint"

	"github.com/miekg/dns"
)

// RootHints are the root servers' IPv4 addresses, as IANA publishes them
// (named.root), used when no hints file is given.
var RootHints = []netip.Addr{
	netip.MustParseAddr("198.41.0.4"),     // a.root-servers.net
	netip.MustParseAddr("170.247.170.2"),  // b
	netip.MustParseAddr("192.33.4.12"),    // c
	netip.MustParseAddr("199.7.91.13"),    // d
	netip.MustParseAddr("192.203.230.10"), // e
	netip.MustParseAddr("192.5.5.241"),    // f
	netip.MustParseAddr("192.112.36.4"),   // g
	netip.MustParseAddr("198.97.190.53"),  // h
	netip.MustParseAddr("192.36.148.17"),  // i
	netip.MustParseAddr("192.58.128.30"),  // j
	netip.MustParseAddr("193.0.14.129"),   // k
	netip.MustParseAddr("199.7.83.42"),    // l
	netip.MustParseAddr("202.12.27.33"),   // m
}

// ReadRootHints reads a hints file in master-file format (named.root):
// the addresses of the name servers of the root.
func ReadRootHints(path string) ([]netip.Addr, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseHints(f, path)
}

func parseHints(r io.Reader, name string) ([]netip.Addr, error) {
	zp := dns.NewZoneParser(r, ".", name)
	ns := map[string]bool{}
	var glue []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		switch v := rr.(type) {
		case *dns.NS:
			if v.Hdr.Name == "." {
				ns[strings.ToLower(v.Ns)] = true
			}
		case *dns.A, *dns.AAAA:
			glue = append(glue, rr)
		}
	}
	if err := zp.Err(); err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, rr := range glue {
		if ns[strings.ToLower(rr.Header().Name)] {
			out = append(out, rrAddr(rr))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no addresses for the root's NS records", name)
	}
	return out, nil
}

func rrAddr(rr dns.RR) netip.Addr {
	switch v := rr.(type) {
	case *dns.A:
		a, _ := netip.AddrFromSlice(v.A.To4())
		return a
	case *dns.AAAA:
		a, _ := netip.AddrFromSlice(v.AAAA)
		return a
	}
	return netip.Addr{}
}

// Hop is one step of an iterative resolution.
type Hop struct {
	Zone     string        `json:"zone"`   // the zone the server was asked as an authority for
	Name     string        `json:"name"`   // the name asked
	Server   string        `json:"server"` // address#port
	RTT      time.Duration `json:"rtt_ns"`
	Rcode    string        `json:"rcode"`
	Referral string        `json:"referral,omitempty"` // the zone cut it pointed to
	NS       []string      `json:"ns,omitempty"`       // the name servers of the referral
	Glue     int           `json:"glue"`               // addresses given with them
	Answer   []string      `json:"answer,omitempty"`
	Err      error         `json:"-"` // why the hop failed; "error" in JSON
	Msg      *dns.Msg      `json:"-"`
}

// MarshalJSON writes the hop with Err as its text.
func (h Hop) MarshalJSON() ([]byte, error) {
	type plain Hop
	v := struct {
		plain
		Error string `json:"error,omitempty"`
	}{plain: plain(h)}
	if h.Err != nil {
		v.Error = h.Err.Error()
	}
	return json.Marshal(v)
}

// Tracer resolves a name iteratively from the root, as dig +trace does:
// every referral followed, glue used, glueless name servers resolved from
// the root in turn.
type Tracer struct {
	Client *Client // its timeout, attempts, EDNS and DNSSEC settings apply
	Roots  []netip.Addr
	// Port is the port servers are asked on; 0 means 53.
	Port uint16
	// OnHop, if set, sees each hop as it is made.
	OnHop func(Hop)
}

const maxHops = 40

// Trace resolves name and type and returns the hops; the last one holds
// the final answer (or the error).
func (t *Tracer) Trace(ctx context.Context, name string, qtype uint16) ([]Hop, error) {
	budget := maxHops
	return t.trace(ctx, dns.Fqdn(name), qtype, &budget, 0, true)
}

func (t *Tracer) port() string {
	if t.Port == 0 {
		return "53"
	}
	return fmt.Sprint(t.Port)
}

func (t *Tracer) trace(ctx context.Context, name string, qtype uint16, budget *int, depth int, report bool) ([]Hop, error) {
	if depth > 4 {
		return nil, fmt.Errorf("%s: glueless name servers nested too deep", name)
	}
	roots := t.Roots
	if len(roots) == 0 {
		roots = RootHints
	}
	servers, zone := roots, "."
	var hops []Hop
	cnames := 0
	for {
		*budget--
		if *budget < 0 {
			return hops, errors.New("too many steps: a referral loop?")
		}
		hop, r, err := t.ask(ctx, servers, zone, name, qtype)
		if err != nil {
			hop.Err = err
			hops = append(hops, hop)
			if report && t.OnHop != nil {
				t.OnHop(hop)
			}
			return hops, err
		}
		cut, nsNames := referral(r, zone)
		if len(r.Answer) > 0 || cut == "" || r.Rcode != dns.RcodeSuccess {
			for _, rr := range r.Answer {
				hop.Answer = append(hop.Answer, rr.String())
			}
			hops = append(hops, hop)
			if report && t.OnHop != nil {
				t.OnHop(hop)
			}
			// A CNAME out of the zone: follow it from the root.
			if target := cnameTarget(r, name, qtype); target != "" && cnames < 8 {
				cnames++
				name, servers, zone = target, roots, "."
				continue
			}
			return hops, nil
		}
		hop.Referral, hop.NS = cut, nsNames
		addrs := glue(r, nsNames)
		hop.Glue = len(addrs)
		hops = append(hops, hop)
		if report && t.OnHop != nil {
			t.OnHop(hop)
		}
		if len(addrs) == 0 {
			// Glueless: resolve a name server's address from the root.
			for _, ns := range nsNames {
				sub, err := t.trace(ctx, ns, dns.TypeA, budget, depth+1, false)
				if err != nil || len(sub) == 0 {
					continue
				}
				for _, rr := range sub[len(sub)-1].Msg.Answer {
					if a := rrAddr(rr); a.IsValid() {
						addrs = append(addrs, a)
					}
				}
				if len(addrs) > 0 {
					break
				}
			}
			if len(addrs) == 0 {
				return hops, fmt.Errorf("no address for any name server of %s (%s)", cut, strings.Join(nsNames, ", "))
			}
		}
		servers, zone = addrs, cut
	}
}

// ask sends the query, without recursion, to each server in turn until
// one answers.
func (t *Tracer) ask(ctx context.Context, servers []netip.Addr, zone, name string, qtype uint16) (Hop, *dns.Msg, error) {
	c := *t.Client
	c.NoRecurse = true
	q := c.NewQuery(name, qtype)
	hop := Hop{Zone: zone, Name: name}
	var errs []error
	for _, a := range servers {
		s := Server{Transport: UDP, Addr: net.JoinHostPort(a.String(), t.port())}
		hop.Server = strings.Replace(s.Addr, ":"+t.port(), "#"+t.port(), 1)
		if a.Is6() {
			hop.Server = a.String() + "#" + t.port()
		}
		c.Servers = []Server{s}
		ans, err := c.Exchange(ctx, q)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		hop.RTT, hop.Rcode, hop.Msg = ans.RTT, dns.RcodeToString[ans.Msg.Rcode], ans.Msg
		return hop, ans.Msg, nil
	}
	return hop, nil, noAnswer(zone, len(servers), errs)
}

// noAnswer says in one line why no server of a zone answered: each
// distinct cause once ("network is unreachable", not thirteen of it). It
// wraps the first error, so errors.Is still sees its errno.
func noAnswer(zone string, asked int, errs []error) error {
	var causes []string
	for _, e := range errs {
		if c := endpoint.Innermost(e); !slices.Contains(causes, c) {
			causes = append(causes, c)
		}
	}
	var first error
	if len(errs) > 0 {
		first = errs[0]
	}
	return &traceError{msg: fmt.Sprintf("no server of %s answered (%d asked): %s", zone, asked, strings.Join(causes, "; ")), err: first}
}

type traceError struct {
	msg string
	err error
}

func (e *traceError) Error() string { return e.msg }
func (e *traceError) Unwrap() error { return e.err }

// referral returns the zone cut a response delegates to, deeper than
// zone, and its name servers.
func referral(r *dns.Msg, zone string) (string, []string) {
	cut := ""
	var names []string
	for _, rr := range r.Ns {
		ns, ok := rr.(*dns.NS)
		if !ok {
			continue
		}
		owner := strings.ToLower(ns.Hdr.Name)
		if !dns.IsSubDomain(zone, owner) || owner == strings.ToLower(zone) {
			continue // not below the zone we asked: ignore (out of bailiwick)
		}
		if cut == "" {
			cut = owner
		}
		if owner == cut {
			names = append(names, strings.ToLower(ns.Ns))
		}
	}
	return cut, names
}

// glue returns the addresses the additional section gives for names.
func glue(r *dns.Msg, names []string) []netip.Addr {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []netip.Addr
	for _, rr := range r.Extra {
		if want[strings.ToLower(rr.Header().Name)] {
			if a := rrAddr(rr); a.IsValid() {
				out = append(out, a)
			}
		}
	}
	return out
}

// cnameTarget returns where a CNAME answer points when the answer does not
// already hold the records asked for.
func cnameTarget(r *dns.Msg, name string, qtype uint16) string {
	if qtype == dns.TypeCNAME {
		return ""
	}
	target := ""
	for _, rr := range r.Answer {
		if rr.Header().Rrtype == qtype {
			return ""
		}
		if c, ok := rr.(*dns.CNAME); ok {
			target = c.Target
		}
	}
	return target
}
