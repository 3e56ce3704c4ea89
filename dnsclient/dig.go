package dnsclient

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// DigFlags are the switches of a dig command line that have a meaning
// here, given as +options or set beforehand.
type DigFlags struct {
	Short     bool // +short: the answer data alone
	TCP       bool // +tcp, +vc: TCP for servers given without a scheme
	NoAll     bool // +noall: no sections...
	Answer    bool // +answer: ...but the answer
	Trace     bool // +trace: iterate from the root
	DNSSEC    bool // +dnssec: the DO bit
	NSID      bool // +nsid
	Cookie    bool // +cookie
	NoRecurse bool // +norecurse: RD clear
	NoEDNS    bool // +noedns
}

// Dig is a dig command line read by ParseDig: what to ask, of whom, and
// how.
type Dig struct {
	DigFlags
	Names   []string // in DNS's ASCII form, in order
	Types   []uint16 // in order; none means A
	Servers []Server // the @SERVERs, in order
	// IDNA maps each name given in Unicode to its ASCII form, which is
	// what is asked.
	IDNA map[string]string
}

// DigError is an argument of a dig command line that cannot be used.
type DigError struct {
	Arg  string
	Rule string
}

func (e *DigError) Error() string { return fmt.Sprintf("%s: %s", e.Arg, e.Rule) }

// ParseDig reads a dig command line: NAMEs, TYPEs (by name or TYPEnnn),
// @SERVERs (as ParseServer reads them; port, if not 0, is their port when
// they name none, as dig -p) and +options, in any order, over the flags
// already set. Names in Unicode are converted as IDNA says. An +option
// dig has but this package does not is a *DigError naming it, not a name.
func ParseDig(args []string, port uint16, flags DigFlags) (Dig, error) {
	d := Dig{DigFlags: flags}
	for _, arg := range args {
		if opt, ok := strings.CutPrefix(arg, "+"); ok {
			if err := d.option(opt); err != nil {
				return Dig{}, err
			}
		}
	}
	for _, arg := range args {
		if strings.HasPrefix(arg, "+") {
			continue
		}
		if s, ok := strings.CutPrefix(arg, "@"); ok {
			s = withPort(s, port)
			if d.TCP && !strings.Contains(s, "://") {
				s = "tcp://" + s
			}
			sv, err := ParseServer(s)
			if err != nil {
				return Dig{}, err
			}
			d.Servers = append(d.Servers, sv)
		} else if t, ok := ParseType(arg); ok {
			d.Types = append(d.Types, t)
		} else {
			name, err := ToASCII(arg)
			if err != nil {
				return Dig{}, err
			}
			if err := CheckName(name); err != nil {
				return Dig{}, err
			}
			if name != arg {
				if d.IDNA == nil {
					d.IDNA = map[string]string{}
				}
				d.IDNA[arg] = name
			}
			d.Names = append(d.Names, name)
		}
	}
	return d, nil
}

// option takes one of dig's +options.
func (d *Dig) option(opt string) error {
	f := &d.DigFlags
	switch strings.ToLower(opt) {
	case "short":
		f.Short = true
	case "tcp", "vc":
		f.TCP = true
	case "notcp", "novc":
		f.TCP = false
	case "noall":
		f.NoAll = true
	case "answer":
		f.Answer = true
	case "trace":
		f.Trace = true
	case "dnssec":
		f.DNSSEC = true
	case "nsid":
		f.NSID = true
	case "cookie":
		f.Cookie = true
	case "norecurse", "norec":
		f.NoRecurse = true
	case "recurse", "rec":
		f.NoRecurse = false
	case "noedns":
		f.NoEDNS = true
	default:
		return &DigError{"+" + opt, "not supported; the options taken are +short, +tcp, +noall +answer, +trace, +dnssec, +nsid, +cookie, +norecurse and +noedns"}
	}
	return nil
}

// Queries lists the queries of the command line: a PTR query for each
// reverse address (as dig -x), then every type (A if none) of every name.
func (d Dig) Queries(reverse []string) ([]Query, error) {
	var qs []Query
	for _, x := range reverse {
		q, err := ReverseQuery(x)
		if err != nil {
			return nil, &DigError{x, "-x takes an IPv4 or IPv6 address"}
		}
		qs = append(qs, q)
	}
	types := d.Types
	if len(types) == 0 {
		types = []uint16{1} // A
	}
	for _, n := range d.Names {
		for _, t := range types {
			qs = append(qs, Query{Name: n, Type: t})
		}
	}
	return qs, nil
}

// Apply sets the client's query switches from the flags.
func (f DigFlags) Apply(c *Client) {
	c.DNSSEC, c.NSID, c.Cookie, c.NoRecurse, c.NoEDNS = f.DNSSEC, f.NSID, f.Cookie, f.NoRecurse, f.NoEDNS
}

// withPort adds a port to a server written without one.
func withPort(s string, port uint16) string {
	if port == 0 || strings.Contains(s, "://") {
		return s
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(a, port).String()
	}
	if !strings.Contains(s, ":") {
		return net.JoinHostPort(s, strconv.Itoa(int(port)))
	}
	return s
}

// WithPort sets port on every server whose address has one, as dig -p
// does for the servers of resolv.conf.
func WithPort(servers []Server, port uint16) {
	if port == 0 {
		return
	}
	for i, sv := range servers {
		if host, _, err := net.SplitHostPort(sv.Addr); err == nil {
			servers[i].Addr = net.JoinHostPort(host, strconv.Itoa(int(port)))
		}
	}
}
