package dnsclient

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/net/idna"

	"github.com/miekg/dns"
	"github.com/netkit-dev/netkit/internal/fieldlines"
)

// Query is one question: a name and a record type.
type Query struct {
	Name string
	Type uint16
}

// String is the query as dig's arguments: "example.com MX".
func (q Query) String() string { return q.Name + " " + TypeString(q.Type) }

// TypeString names a record type: "MX", or "TYPE65534" for a type with no
// name.
func TypeString(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// ParseType reads a record type by name, in any case ("mx"), or as
// TYPEnnn (RFC 3597). It reports false for anything else, so that dig-like
// arguments can tell types from names.
func ParseType(s string) (uint16, bool) {
	u := strings.ToUpper(s)
	if t, ok := dns.StringToType[u]; ok && u != "NONE" && u != "RESERVED" {
		return t, true
	}
	if rest, ok := strings.CutPrefix(u, "TYPE"); ok {
		n, err := strconv.ParseUint(rest, 10, 16)
		if err == nil && n > 0 {
			return uint16(n), true
		}
	}
	return 0, false
}

// NameError is a name that cannot be asked for.
type NameError struct{ Name string }

func (e *NameError) Error() string {
	return fmt.Sprintf("dnsclient: invalid name %q: labels are at most 63 bytes and names 255", e.Name)
}

// CheckName reports whether name can be put in a question.
func CheckName(name string) error {
	if _, ok := dns.IsDomainName(name); !ok || name == "" {
		return &NameError{name}
	}
	return nil
}

// ToASCII turns an internationalized name into the A-labels DNS carries
// (ünïcode.example -> xn--ncode-cta3g.example), as IDNA 2008's lookup
// rules (UTS 46) say. An ASCII name comes back as it is, escapes and all.
func ToASCII(name string) (string, error) {
	ascii := true
	for i := 0; i < len(name); i++ {
		if name[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return name, nil
	}
	a, err := idna.Lookup.ToASCII(name)
	if err != nil {
		return "", fmt.Errorf("dnsclient: %q is not a valid internationalized name: %w", name, err)
	}
	return a, nil
}

// ReverseQuery is the PTR query for an address (dig -x): 1.2.0.192.in-addr.arpa.
func ReverseQuery(addr string) (Query, error) {
	rev, err := dns.ReverseAddr(addr)
	if err != nil {
		return Query{}, fmt.Errorf("dnsclient: invalid address %q for a reverse query: want an IPv4 or IPv6 address", addr)
	}
	return Query{rev, dns.TypePTR}, nil
}

// ReadQueries reads a batch file: "NAME [TYPE]" per line (A if no type),
// blank lines and # comments skipped. name names the input in errors.
func ReadQueries(r io.Reader, name string) ([]Query, error) {
	var qs []Query
	err := fieldlines.Each(r, name, func(_ int, fs []string) error {
		q := Query{fs[0], dns.TypeA}
		ok := CheckName(fs[0]) == nil && len(fs) <= 2
		if ok && len(fs) == 2 {
			q.Type, ok = ParseType(fs[1])
		}
		if !ok {
			return fmt.Errorf("%q is not \"NAME [TYPE]\" (such as \"example.com MX\")", strings.Join(fs, " "))
		}
		qs = append(qs, q)
		return nil
	})
	return qs, err
}

// Lookup asks q as a stub resolver does: each name that the search list
// and ndots make of q.Name in turn (see Names), stopping at the first
// that exists. When every name is NXDOMAIN, the last NXDOMAIN is the answer.
func (c *Client) Lookup(ctx context.Context, q Query) (*Answer, error) {
	var last *Answer
	for _, n := range c.Names(q.Name) {
		ans, err := c.Exchange(ctx, c.NewQuery(n, q.Type))
		if err != nil {
			if last != nil {
				return last, nil // an earlier name's NXDOMAIN is the answer
			}
			return nil, err
		}
		last = ans
		if ans.Msg.Rcode != dns.RcodeNameError {
			break
		}
	}
	return last, nil
}
