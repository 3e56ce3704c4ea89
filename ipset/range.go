package ipset

import (
	"fmt"
	"net/netip"
	"strings"
)

// Range is an inclusive range of addresses of one family, From <= To. The
// zero Range is invalid.
type Range struct {
	from, to netip.Addr
}

// RangeFrom returns the range from..to, which must be valid addresses of
// one family without zones, from <= to; otherwise the Range is invalid.
func RangeFrom(from, to netip.Addr) Range {
	if !from.IsValid() || !to.IsValid() || from.Is4() != to.Is4() || from.Zone() != "" || to.Zone() != "" || to.Less(from) {
		return Range{}
	}
	return Range{from, to}
}

// ParseRange parses "FIRST-LAST", such as 192.0.2.10-192.0.2.20.
func ParseRange(s string) (Range, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Range{}, fmt.Errorf("ipset: range %q: want FIRST-LAST", s)
	}
	from, err := netip.ParseAddr(strings.TrimSpace(a))
	if err != nil {
		return Range{}, fmt.Errorf("ipset: range %q: %w", s, err)
	}
	to, err := netip.ParseAddr(strings.TrimSpace(b))
	if err != nil {
		return Range{}, fmt.Errorf("ipset: range %q: %w", s, err)
	}
	switch {
	case from.Is4() != to.Is4():
		return Range{}, fmt.Errorf("ipset: range %q mixes IPv4 and IPv6", s)
	case from.Zone() != "" || to.Zone() != "":
		return Range{}, fmt.Errorf("ipset: range %q: ranges take no zones", s)
	case to.Less(from):
		return Range{}, fmt.Errorf("ipset: range %q ends before it starts", s)
	}
	return Range{from, to}, nil
}

// MustParseRange is ParseRange that panics on error.
func MustParseRange(s string) Range {
	r, err := ParseRange(s)
	if err != nil {
		panic(err)
	}
	return r
}

// RangeOfPrefix returns the addresses of p.
func RangeOfPrefix(p netip.Prefix) Range {
	p = p.Masked()
	lo := u128From(p.Addr())
	hi := lo.or(hostMask(p.Addr().BitLen() - p.Bits()))
	return Range{p.Addr(), hi.addr(p.Addr().Is4())}
}

// From returns the first address.
func (r Range) From() netip.Addr { return r.from }

// To returns the last address.
func (r Range) To() netip.Addr { return r.to }

// IsValid reports whether r is a valid range.
func (r Range) IsValid() bool { return r.from.IsValid() }

// Contains reports whether a is in r.
func (r Range) Contains(a netip.Addr) bool {
	return r.IsValid() && a.Is4() == r.from.Is4() && !a.Less(r.from) && !r.to.Less(a)
}

// String returns "FIRST-LAST".
func (r Range) String() string {
	if !r.IsValid() {
		return "invalid Range"
	}
	return r.from.String() + "-" + r.to.String()
}

// AppendTo appends the form of String to b.
func (r Range) AppendTo(b []byte) []byte {
	b = r.from.AppendTo(b)
	b = append(b, '-')
	return r.to.AppendTo(b)
}

// MarshalText implements encoding.TextMarshaler.
func (r Range) MarshalText() ([]byte, error) {
	if !r.IsValid() {
		return []byte{}, nil
	}
	return r.AppendTo(nil), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *Range) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*r = Range{}
		return nil
	}
	v, err := ParseRange(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Prefixes returns the fewest prefixes that cover exactly r.
func (r Range) Prefixes() []netip.Prefix {
	if !r.IsValid() {
		return nil
	}
	return r.AppendPrefixes(nil)
}

// AppendPrefixes appends the prefixes of r to dst.
func (r Range) AppendPrefixes(dst []netip.Prefix) []netip.Prefix {
	v4 := r.from.Is4()
	return appendPrefixes(dst, u128From(r.from), u128From(r.to), v4)
}

// appendPrefixes splits lo..hi into prefixes, largest first from lo.
func appendPrefixes(dst []netip.Prefix, lo, hi u128, v4 bool) []netip.Prefix {
	width := 128
	if v4 {
		width = 32
	}
	for {
		// The largest block that starts at lo and does not pass hi.
		n := min(lo.trailingZeros(), width)
		for n > 0 && hi.less(lo.or(hostMask(n))) {
			n--
		}
		dst = append(dst, netip.PrefixFrom(lo.addr(v4), width-n))
		end := lo.or(hostMask(n))
		if end == hi {
			return dst
		}
		lo = end.addOne()
	}
}
