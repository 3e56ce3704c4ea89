// Package route reads the system's routing tables and answers which route
// a packet to an address takes: longest-prefix match, as the kernel does,
// over the local table first and then the main one. Lookups use
// github.com/gaissmai/bart. [ParseTable] reads tables written as `ip
// route` prints them, so a table can also come from a file.
package route

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/gaissmai/bart"
)

// Route is one route.
type Route struct {
	Dst     netip.Prefix `json:"destination"`
	Gateway netip.Addr   `json:"gateway,omitzero"`
	Iface   string       `json:"iface,omitempty"`
	Metric  int          `json:"metric"`
	// Src is the preferred source address, when the route names one.
	Src   netip.Addr `json:"src,omitzero"`
	Table int        `json:"table"`
	Type  Kind       `json:"type"`
	Scope Scope      `json:"scope"`
	Proto string     `json:"proto,omitempty"`
	// Nexthops lists the hops of a multipath route; Gateway and Iface
	// are then the first one's. The kernel picks a hop for each flow by a
	// hash of its addresses (and ports, by net.ipv4.fib_multipath_hash_policy).
	Nexthops []Nexthop `json:"nexthops,omitempty"`
}

// Nexthop is one hop of a multipath route.
type Nexthop struct {
	Gateway netip.Addr `json:"gateway,omitzero"`
	Iface   string     `json:"iface,omitempty"`
	Weight  int        `json:"weight"`
}

func (n Nexthop) String() string {
	s := "nexthop"
	if n.Gateway.IsValid() {
		s += " via " + n.Gateway.String()
	}
	if n.Iface != "" {
		s += " dev " + n.Iface
	}
	return s + fmt.Sprintf(" weight %d", n.Weight)
}

// Kind is a route's type, as ip route names it.
type Kind string

// The kinds of route.
const (
	KindUnicast     Kind = "unicast"
	KindLocal       Kind = "local"
	KindBroadcast   Kind = "broadcast"
	KindAnycast     Kind = "anycast"
	KindMulticast   Kind = "multicast"
	KindBlackhole   Kind = "blackhole"
	KindUnreachable Kind = "unreachable"
	KindProhibit    Kind = "prohibit"
	KindThrow       Kind = "throw"
	KindNAT         Kind = "nat"
)

// Scope is how far a route's destination is, as ip route names it.
type Scope string

// The scopes.
const (
	ScopeGlobal  Scope = "global"
	ScopeSite    Scope = "site"
	ScopeLink    Scope = "link"
	ScopeHost    Scope = "host"
	ScopeNowhere Scope = "nowhere"
)

// Table numbers, as in /etc/iproute2/rt_tables.
const (
	TableDefault = 253
	TableMain    = 254
	TableLocal   = 255
)

// DirectlyConnected reports whether the route reaches its destination
// without a gateway: the destination is on a link of this host.
func (r Route) DirectlyConnected() bool {
	return !r.Gateway.IsValid() && r.Type == KindUnicast
}

// String writes the route as `ip route` does.
func (r Route) String() string {
	var b strings.Builder
	if r.Type != KindUnicast && r.Type != "" {
		b.WriteString(string(r.Type) + " ")
	}
	if r.Dst.Bits() == 0 {
		b.WriteString("default")
	} else {
		b.WriteString(r.Dst.String())
	}
	if r.Gateway.IsValid() && len(r.Nexthops) == 0 {
		b.WriteString(" via " + r.Gateway.String())
	}
	if r.Iface != "" && len(r.Nexthops) == 0 {
		b.WriteString(" dev " + r.Iface)
	}
	if r.Table != TableMain { // table 0 too: a route without "table" is main's
		b.WriteString(" table " + TableName(r.Table))
	}
	if r.Proto != "" {
		b.WriteString(" proto " + r.Proto)
	}
	if r.Scope != "" && r.Scope != ScopeGlobal {
		b.WriteString(" scope " + string(r.Scope))
	}
	if r.Src.IsValid() {
		b.WriteString(" src " + r.Src.String())
	}
	if r.Metric != 0 {
		fmt.Fprintf(&b, " metric %d", r.Metric)
	}
	for _, n := range r.Nexthops {
		b.WriteString(" " + n.String())
	}
	return b.String()
}

// TableName names the well-known tables, and numbers the rest.
func TableName(t int) string {
	switch t {
	case TableLocal:
		return "local"
	case TableMain:
		return "main"
	case TableDefault:
		return "default"
	}
	return fmt.Sprint(t)
}

// Table answers route lookups over a set of routing tables, through
// policy rules as the kernel applies them. The zero Table is empty.
type Table struct {
	tables map[int]*bart.Table[[]Route]
	rules  []Rule // by priority
}

// NewTable indexes routes for lookups through the kernel's default rules
// (local, main, default).
func NewTable(routes []Route) *Table { return NewPolicyTable(routes, nil) }

// NewPolicyTable indexes routes for lookups through rules (`ip rule`);
// nil rules are the default ones of both families.
func NewPolicyTable(routes []Route, rules []Rule) *Table {
	t := &Table{tables: map[int]*bart.Table[[]Route]{}}
	for _, r := range routes {
		id := r.Table
		if id == 0 {
			id = TableMain
		}
		bt := t.tables[id]
		if bt == nil {
			bt = new(bart.Table[[]Route])
			t.tables[id] = bt
		}
		dst := r.Dst.Masked()
		rs, _ := bt.Get(dst)
		rs = append(rs, r)
		slices.SortStableFunc(rs, func(a, b Route) int { return a.Metric - b.Metric })
		bt.Insert(dst, rs)
	}
	if rules == nil {
		rules = append(DefaultRules(false), DefaultRules(true)...)
	}
	t.rules = slices.Clone(rules)
	slices.SortStableFunc(t.rules, func(a, b Rule) int { return a.Priority - b.Priority })
	return t
}

// Lookup returns the route a packet made on this host to a takes, with
// no source address chosen yet: the rules in priority order, and in the
// table a rule names the longest matching prefix, among routes of one
// prefix the lowest metric.
func (t *Table) Lookup(a netip.Addr) (Route, bool) {
	r, _, ok := t.Resolve(a, netip.Addr{})
	return r, ok
}

// Resolve is Lookup for a packet from src (invalid: not yet chosen, as a
// socket not bound), and says which rule chose the route. A rule that
// refuses (unreachable, prohibit, blackhole) gives a route of that kind
// for dst alone; a route of kind throw, or one that the rule's
// suppress_prefixlength rejects, sends the search on to the next rule.
func (t *Table) Resolve(dst, src netip.Addr) (Route, Rule, bool) {
	dst, src = dst.WithZone("").Unmap(), src.WithZone("").Unmap()
	for _, rule := range t.rules {
		if !rule.matches(src, dst) {
			continue
		}
		switch rule.Action {
		case "lookup":
			bt := t.tables[rule.Table]
			if bt == nil {
				continue
			}
			rs, ok := bt.Lookup(dst)
			if !ok || len(rs) == 0 {
				continue
			}
			r := rs[0]
			if rule.SuppressPrefixLength >= 0 && r.Dst.Bits() <= rule.SuppressPrefixLength || r.Type == KindThrow {
				continue
			}
			return r, rule, true
		case "unreachable", "prohibit", "blackhole":
			return Route{Dst: netip.PrefixFrom(dst, dst.BitLen()), Type: Kind(rule.Action), Table: rule.Table}, rule, true
		}
	}
	return Route{}, Rule{}, false
}

var (
	typeNames  = map[uint8]Kind{1: KindUnicast, 2: KindLocal, 3: KindBroadcast, 4: KindAnycast, 5: KindMulticast, 6: KindBlackhole, 7: KindUnreachable, 8: KindProhibit, 9: KindThrow, 10: KindNAT}
	scopeNames = map[uint8]Scope{0: ScopeGlobal, 200: ScopeSite, 253: ScopeLink, 254: ScopeHost, 255: ScopeNowhere}
	protoNames = map[uint8]string{1: "redirect", 2: "kernel", 3: "boot", 4: "static", 16: "dhcp", 42: "babel", 186: "bgp", 187: "isis", 188: "ospf", 189: "rip", 11: "zebra", 12: "bird", 99: "ra"}
)
