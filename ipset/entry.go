package ipset

import (
	"fmt"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
	"unsafe"
)

// Kind says what form an entry was written in.
type Kind uint8

// The forms of an entry.
const (
	KindAddr   Kind = iota + 1 // 192.0.2.1, fe80::1%eth0
	KindPrefix                 // 192.0.2.0/24, 192.0.2.0/255.255.255.0, 192.0.2.7/24
	KindRange                  // 192.0.2.10-192.0.2.20
)

// Entry is one parsed address, prefix or range.
type Entry struct {
	Kind Kind
	// Addr is the address as written: the address of KindAddr (zone
	// kept), or the address part of KindPrefix (host bits kept).
	Addr netip.Addr
	// Prefix is set for KindPrefix, with its host bits as written; its
	// network is Prefix.Masked().
	Prefix netip.Prefix
	// Range is the addresses the entry covers (for a prefix, its whole
	// network).
	Range Range
}

// ParseError reports an entry that does not parse, quoting it and naming
// the rule it broke.
type ParseError struct {
	Input string
	Msg   string
}

func (e *ParseError) Error() string { return fmt.Sprintf("invalid entry %q: %s", e.Input, e.Msg) }

// ParseEntry parses an address, a prefix (CIDR, or IPv4 address/netmask)
// or a range FIRST-LAST. It is strict: IPv4 octets with leading zeros,
// netmasks that are not contiguous, prefix lengths out of range and zones
// on prefixes or ranges are errors. Surrounding blanks are ignored.
func ParseEntry(s string) (Entry, error) {
	t := strings.TrimSpace(s)
	e, msg := parseEntry(t)
	if msg != "" {
		return Entry{}, &ParseError{Input: s, Msg: unquoteSelf(msg, t)}
	}
	return e, nil
}

// unquoteSelf drops a leading quote of the whole input from msg: the
// ParseError quotes it already.
func unquoteSelf(msg, input string) string {
	return strings.TrimPrefix(msg, strconv.Quote(input)+": ")
}

// ParseEntryBytes is ParseEntry for a byte slice; it does not allocate
// unless it fails or the entry has a zone.
func ParseEntryBytes(b []byte) (Entry, error) {
	b = trimBlanks(b)
	if len(b) == 0 {
		return Entry{}, &ParseError{Input: "", Msg: "empty entry"}
	}
	if addr, bits, prefix, ok := fastV4(b); ok {
		return v4Entry(addr, bits, prefix), nil
	}
	// The parsers below do not keep their input; zones are copied when
	// interned, so viewing the bytes as a string is safe here.
	e, msg := parseEntry(unsafe.String(&b[0], len(b)))
	if msg != "" {
		return Entry{}, &ParseError{Input: string(b), Msg: unquoteSelf(msg, string(b))}
	}
	return e, nil
}

func trimBlanks(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// parseEntry returns the entry, or a message saying which rule s broke.
func parseEntry(s string) (Entry, string) {
	if s == "" {
		return Entry{}, "empty entry"
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return parsePrefix(s, s[:i], s[i+1:])
	}
	if i := strings.IndexByte(s, '-'); i >= 0 {
		from, msg := parseAddr(s[:i])
		if msg != "" {
			return Entry{}, msg
		}
		to, msg := parseAddr(s[i+1:])
		if msg != "" {
			return Entry{}, msg
		}
		switch {
		case from.Zone() != "" || to.Zone() != "":
			return Entry{}, "zones belong on single addresses, not ranges"
		case from.Is4() != to.Is4():
			return Entry{}, "a range may not mix IPv4 and IPv6"
		case to.Less(from):
			return Entry{}, "a range must not end before it starts"
		}
		return Entry{Kind: KindRange, Range: Range{from, to}}, ""
	}
	a, msg := parseAddr(s)
	if msg != "" {
		return Entry{}, msg
	}
	return Entry{Kind: KindAddr, Addr: a, Range: Range{a.WithZone(""), a.WithZone("")}}, ""
}

func parsePrefix(s, addr, bits string) (Entry, string) {
	if strings.IndexByte(addr, '%') >= 0 {
		return Entry{}, "zones belong on addresses, not prefixes"
	}
	a, msg := parseAddr(addr)
	if msg != "" {
		return Entry{}, msg
	}
	var n int
	if strings.ContainsAny(bits, ".:") {
		// address/netmask
		if !a.Is4() {
			return Entry{}, "netmasks are for IPv4; write IPv6 prefixes as /length"
		}
		m, err := netip.ParseAddr(bits)
		if err != nil || !m.Is4() {
			return Entry{}, fmt.Sprintf("netmask %q is not an IPv4 address", bits)
		}
		v := uint32(u128From(m).lo)
		ones, ok := leadingOnes(v)
		if !ok {
			// A Cisco wildcard (host) mask is the netmask inverted:
			// 0.0.0.255 means /24, as Python's ipaddress reads it.
			zeros, wok := leadingOnes(^v)
			if !wok {
				return Entry{}, fmt.Sprintf("netmask %s is not contiguous (its one bits must all come first), nor is it a wildcard mask (zero bits first, as 0.0.0.255)", bits)
			}
			ones = zeros
		}
		n = ones
	} else {
		if bits == "" || len(bits) > 3 || bits[0] == '0' && len(bits) > 1 {
			return Entry{}, fmt.Sprintf("prefix length %q must be a decimal number without leading zeros", bits)
		}
		v, err := strconv.Atoi(bits)
		if err != nil || v < 0 {
			return Entry{}, fmt.Sprintf("prefix length %q must be a decimal number without leading zeros", bits)
		}
		if v > a.BitLen() {
			if a.Is4() {
				return Entry{}, fmt.Sprintf("prefix length %d is out of range: IPv4 prefix lengths are 0-32", v)
			}
			return Entry{}, fmt.Sprintf("prefix length %d is out of range: IPv6 prefix lengths are 0-128", v)
		}
		n = v
	}
	p := netip.PrefixFrom(a, n)
	return Entry{Kind: KindPrefix, Addr: a, Prefix: p, Range: RangeOfPrefix(p)}, ""
}

func parseAddr(s string) (netip.Addr, string) {
	a, err := netip.ParseAddr(s)
	if err == nil {
		return a, ""
	}
	msg := err.Error()
	if _, after, ok := strings.Cut(msg, "): "); ok {
		msg = after
	}
	if strings.Contains(msg, "leading zero") {
		return netip.Addr{}, fmt.Sprintf("%q: IPv4 octets may not have leading zeros (010 is octal to some parsers, decimal to others)", s)
	}
	return netip.Addr{}, fmt.Sprintf("%q is not an IP address: %s", s, msg)
}

// leadingOnes counts the one bits at the top of v and reports whether all
// the others are zero (a contiguous netmask).
func leadingOnes(v uint32) (int, bool) {
	ones := bits.LeadingZeros32(^v)
	return ones, ones == 32 || v<<ones == 0
}
