// Package acl is an address access list: allow and deny by prefix, as
// ncat's --allow and --deny and a firewall's source match have it.
//
// A [List] denies an address that any deny prefix holds; otherwise, when
// it has allow prefixes, it allows only the addresses they hold, and when
// it has none, it allows every address. Lookups cost O(log n) in the
// number of prefixes, on [ipset.Set].
//
// IPv4-mapped IPv6 is IPv4 here, both in the list and in the addresses
// checked: ::ffff:192.0.2.0/120 means 192.0.2.0/24, and a client that a
// dual-stack socket reports as ::ffff:192.0.2.7 is checked as 192.0.2.7.
// Zones are ignored.
package acl

import (
	"cmp"
	"fmt"
	"net/netip"
	"strings"

	"github.com/netkit-dev/netkit/ipset"
)

// List is an immutable access list. The zero List allows everything.
type List struct {
	allow, deny         ipset.Set
	allowP, denyP       []netip.Prefix // as given, to name the rule that matched
	hasAllow, hasDeny   bool
	allowName, denyName string // for messages; "allow" and "deny" if empty
}

// New returns the list that allows allow and denies deny; deny wins.
// Prefixes are masked, and IPv4-mapped ones made IPv4.
func New(allow, deny []netip.Prefix) List {
	var l List
	l.allow, l.allowP = build(allow)
	l.deny, l.denyP = build(deny)
	l.hasAllow, l.hasDeny = len(allow) > 0, len(deny) > 0
	return l
}

func build(ps []netip.Prefix) (ipset.Set, []netip.Prefix) {
	var b ipset.Builder
	out := make([]netip.Prefix, 0, len(ps))
	for _, p := range ps {
		p = Unmap(p)
		b.AddPrefix(p)
		out = append(out, p)
	}
	return b.Finish(), out
}

// Unmap turns an IPv4-mapped IPv6 prefix into its IPv4 prefix
// (::ffff:192.0.2.0/120 into 192.0.2.0/24) and masks it. A mapped prefix
// shorter than /96 is not all IPv4 and is kept as it is.
func Unmap(p netip.Prefix) netip.Prefix {
	a := p.Addr().WithZone("")
	if a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked()
	}
	return netip.PrefixFrom(a, p.Bits()).Masked()
}

// ParseError is an allow or deny entry that does not parse.
type ParseError struct {
	List  string // "allow" or "deny"
	Input string
	Rule  string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("acl: invalid %s entry %q: %s", e.List, e.Input, e.Rule)
}

// Parse reads allow and deny entries: each an address or a CIDR prefix,
// or a comma-separated list of them. A prefix with host bits set is an
// error, since it is most often a typo.
func Parse(allow, deny []string) (List, error) {
	a, err := parseAll("allow", allow)
	if err != nil {
		return List{}, err
	}
	d, err := parseAll("deny", deny)
	if err != nil {
		return List{}, err
	}
	return New(a, d), nil
}

func parseAll(list string, vals []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, v := range vals {
		for s := range strings.SplitSeq(v, ",") {
			p, err := ParsePrefix(strings.TrimSpace(s))
			if err != nil {
				err.(*ParseError).List = list
				return nil, err
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// ParsePrefix reads one entry: an address (a prefix of one address) or a
// CIDR prefix without host bits. Errors are *ParseError.
func ParsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, &ParseError{Input: s, Rule: "want an address or CIDR prefix, such as 192.0.2.7 or 2001:db8::/32"}
		}
		if a.Zone() != "" {
			return netip.Prefix{}, &ParseError{Input: s, Rule: "zones have no place in an access list"}
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, &ParseError{Input: s, Rule: "want an address or CIDR prefix, such as 192.0.2.0/24 or 2001:db8::/32"}
	}
	if p != p.Masked() {
		return netip.Prefix{}, &ParseError{Input: s, Rule: fmt.Sprintf("host bits are set; the network is %s", p.Masked())}
	}
	return p, nil
}

// Named returns the list with names for its two halves, which denial
// messages use: a command line names its flags ("--allow", "--deny"), a
// configuration file its keys. The names are "allow" and "deny" unless
// given.
func (l List) Named(allow, deny string) List {
	l.allowName, l.denyName = allow, deny
	return l
}

// DeniedError says why an address was turned away.
type DeniedError struct {
	Addr netip.Addr
	// Rule is the deny prefix that holds Addr, or the zero Prefix when
	// Addr is in no allow prefix.
	Rule netip.Prefix
	// List names the half of the list that decided (see List.Named).
	List string
}

func (e *DeniedError) Error() string {
	if e.Rule.IsValid() {
		return fmt.Sprintf("%s is denied by %s %s", e.Addr, e.List, e.Rule)
	}
	return fmt.Sprintf("%s is not in any %s prefix", e.Addr, e.List)
}

// IsEmpty reports whether the list has no entries (and so allows all).
func (l List) IsEmpty() bool { return !l.hasAllow && !l.hasDeny }

// Allows reports whether a may pass.
func (l List) Allows(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	if l.hasDeny && l.deny.Contains(a) {
		return false
	}
	return !l.hasAllow || l.allow.Contains(a)
}

// Check returns nil when a may pass, and a *DeniedError when not.
func (l List) Check(a netip.Addr) error {
	if l.Allows(a) {
		return nil
	}
	a = a.Unmap().WithZone("")
	for _, p := range l.denyP {
		if p.Contains(a) {
			return &DeniedError{Addr: a, Rule: p, List: cmp.Or(l.denyName, "deny")}
		}
	}
	return &DeniedError{Addr: a, List: cmp.Or(l.allowName, "allow")}
}

// Filter returns the list as a server.Config.Filter, or nil when the list
// is empty, so that an empty list costs nothing per connection.
func (l List) Filter() func(netip.AddrPort) error {
	if l.IsEmpty() {
		return nil
	}
	return func(ap netip.AddrPort) error { return l.Check(ap.Addr()) }
}

// Allow returns the allow prefixes, as given (masked and unmapped).
func (l List) Allow() []netip.Prefix { return append([]netip.Prefix(nil), l.allowP...) }

// Deny returns the deny prefixes, as given (masked and unmapped).
func (l List) Deny() []netip.Prefix { return append([]netip.Prefix(nil), l.denyP...) }
