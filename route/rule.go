package route

import (
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/netkit-dev/netkit/internal/fieldlines"
)

// Rule is a policy routing rule, as `ip rule` shows it: packets that match
// its selectors are looked up in Table, or refused by Action.
type Rule struct {
	Priority int          `json:"priority"`
	IPv6     bool         `json:"ipv6"`
	From     netip.Prefix `json:"from,omitzero"` // zero: all
	To       netip.Prefix `json:"to,omitzero"`   // zero: all
	Not      bool         `json:"not,omitempty"` // the selectors are inverted
	// Iif, Oif and Fwmark select packets by interface or firewall mark.
	// A lookup made here has no mark and comes from this host (iif lo);
	// rules that need another are passed over.
	Iif    string `json:"iif,omitempty"`
	Oif    string `json:"oif,omitempty"`
	Fwmark uint32 `json:"fwmark,omitempty"`
	// Action: "lookup" (in Table), or "unreachable", "prohibit",
	// "blackhole", or "goto"/"nop" (passed over).
	Action string `json:"action"`
	Table  int    `json:"table,omitempty"`
	// SuppressPrefixLength, when 0 or more, rejects a route found whose
	// prefix is that long or shorter (-1: none).
	SuppressPrefixLength int `json:"suppress_prefixlength"`
}

// DefaultRules are the kernel's rules for one family when none were
// added: the local table, then main, then default.
func DefaultRules(ipv6 bool) []Rule {
	return []Rule{
		{Priority: 0, IPv6: ipv6, Action: "lookup", Table: TableLocal, SuppressPrefixLength: -1},
		{Priority: 32766, IPv6: ipv6, Action: "lookup", Table: TableMain, SuppressPrefixLength: -1},
		{Priority: 32767, IPv6: ipv6, Action: "lookup", Table: TableDefault, SuppressPrefixLength: -1},
	}
}

func (r Rule) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d:\t", r.Priority)
	if r.Not {
		b.WriteString("not ")
	}
	if r.From.IsValid() {
		b.WriteString("from " + r.From.String())
	} else {
		b.WriteString("from all")
	}
	if r.To.IsValid() {
		b.WriteString(" to " + r.To.String())
	}
	if r.Fwmark != 0 {
		fmt.Fprintf(&b, " fwmark %#x", r.Fwmark)
	}
	if r.Iif != "" {
		b.WriteString(" iif " + r.Iif)
	}
	if r.Oif != "" {
		b.WriteString(" oif " + r.Oif)
	}
	switch r.Action {
	case "lookup":
		b.WriteString(" lookup " + TableName(r.Table))
	default:
		b.WriteString(" " + r.Action)
	}
	if r.SuppressPrefixLength >= 0 {
		fmt.Fprintf(&b, " suppress_prefixlength %d", r.SuppressPrefixLength)
	}
	return b.String()
}

// matches reports whether a packet from src (invalid: unspecified, as a
// socket not yet bound) to dst, made on this host, is selected.
func (r Rule) matches(src, dst netip.Addr) bool {
	if r.IPv6 != dst.Is6() || r.Oif != "" || r.Fwmark != 0 || r.Iif != "" && r.Iif != "lo" {
		return false
	}
	m := true
	if r.From.IsValid() && r.From.Bits() > 0 {
		m = src.IsValid() && r.From.Contains(src)
	}
	if r.To.IsValid() && r.To.Bits() > 0 {
		m = m && r.To.Contains(dst)
	}
	return m != r.Not
}

// ParseRules reads rules written as `ip rule` (or `ip -6 rule`) prints
// them; '#' comments and blank lines are skipped. A family is told by
// the addresses; rules without one are taken for both.
func ParseRules(r io.Reader, name string) ([]Rule, error) {
	var out []Rule
	err := fieldlines.Each(r, name, func(_ int, f []string) error {
		rs, err := parseRule(f)
		out = append(out, rs...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func parseRule(f []string) ([]Rule, error) {
	pri, ok := strings.CutSuffix(f[0], ":")
	if !ok {
		return nil, fmt.Errorf("%q: a rule starts with its priority and a colon, as ip rule prints", f[0])
	}
	n, err := strconv.Atoi(pri)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("priority %q: not a number", pri)
	}
	r := Rule{Priority: n, SuppressPrefixLength: -1}
	family := ""
	prefix := func(s string) (netip.Prefix, error) {
		if s == "all" {
			return netip.Prefix{}, nil
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, err2 := netip.ParseAddr(s)
			if err2 != nil {
				return p, fmt.Errorf("%q: not an address or prefix", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		fam := map[bool]string{true: "6", false: "4"}[p.Addr().Is6()]
		if family != "" && family != fam {
			return p, fmt.Errorf("%q: a rule cannot mix IPv4 and IPv6 addresses", s)
		}
		family = fam
		return p, nil
	}
	for i := 1; i < len(f); i++ {
		w := f[i]
		next := func() (string, error) {
			if i+1 >= len(f) {
				return "", fmt.Errorf("%q needs a value", w)
			}
			i++
			return f[i], nil
		}
		var v string
		switch w {
		case "not":
			r.Not = true
			continue
		case "unreachable", "prohibit", "blackhole", "nop":
			r.Action = w
			continue
		case "from", "to", "lookup", "table", "iif", "oif", "fwmark", "goto", "suppress_prefixlength", "pref", "priority", "proto", "realms", "tos", "dsfield", "uidrange", "ipproto", "sport", "dport", "l3mdev":
			if w == "l3mdev" {
				continue
			}
			if v, err = next(); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("unknown word %q", w)
		}
		switch w {
		case "from":
			if r.From, err = prefix(v); err != nil {
				return nil, err
			}
		case "to":
			if r.To, err = prefix(v); err != nil {
				return nil, err
			}
		case "lookup", "table":
			r.Action = "lookup"
			if r.Table, err = tableNumber(v); err != nil {
				return nil, err
			}
		case "iif":
			r.Iif = strings.TrimSuffix(v, "[detached]")
		case "oif":
			r.Oif = v
		case "fwmark":
			m, _, _ := strings.Cut(v, "/")
			x, err := strconv.ParseUint(m, 0, 32)
			if err != nil {
				return nil, fmt.Errorf("fwmark %q: not a number", v)
			}
			r.Fwmark = uint32(x)
		case "goto":
			r.Action = "goto"
		case "suppress_prefixlength":
			if r.SuppressPrefixLength, err = strconv.Atoi(v); err != nil {
				return nil, fmt.Errorf("suppress_prefixlength %q: not a number", v)
			}
		}
	}
	if r.Action == "" {
		return nil, fmt.Errorf("no action: want lookup TABLE, unreachable, prohibit or blackhole")
	}
	switch family {
	case "4":
		return []Rule{r}, nil
	case "6":
		r.IPv6 = true
		return []Rule{r}, nil
	}
	r6 := r
	r6.IPv6 = true
	return []Rule{r, r6}, nil
}

// tableNumber reads a table as ip prints it: a number or a name from
// /etc/iproute2/rt_tables's defaults.
func tableNumber(s string) (int, error) {
	switch s {
	case "local":
		return TableLocal, nil
	case "main":
		return TableMain, nil
	case "default":
		return TableDefault, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("table %q: a number, local, main or default", s)
	}
	return n, nil
}
