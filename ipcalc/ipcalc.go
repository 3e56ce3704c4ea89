// Package ipcalc tells everything about an IP address, prefix or range:
// the network, broadcast, netmask and wildcard; the first and last usable
// hosts and exact counts (RFC 3021 /31 and RFC 6164 /127 included); the
// integer, hex and binary forms; the reverse DNS name and zones (RFC 2317
// for IPv4 prefixes that do not end on an octet, nibble zones for IPv6);
// the classification from the IANA special-purpose registries ([Special]);
// the historic class, the IPv6 scope; and the IPv4 address embedded in
// IPv4-mapped, 6to4, NAT64 and Teredo addresses. Subnetting ([Split],
// [SplitHosts]) and supernets live here too.
package ipcalc

import (
	"fmt"
	"math/big"
	"net/netip"
	"strconv"
	"strings"

	"github.com/netkit-dev/netkit/ipset"
)

// Facts is everything ipcalc tells about one input.
type Facts struct {
	Input        string     `json:"input"`
	Kind         Kind       `json:"kind"`
	Address      netip.Addr `json:"address,omitzero"` // with its zone
	PrefixLength *int       `json:"prefix_length,omitempty"`
	Netmask      netip.Addr `json:"netmask,omitzero"`  // IPv4 only
	Wildcard     netip.Addr `json:"wildcard,omitzero"` // IPv4 only
	Network      netip.Addr `json:"network,omitzero"`
	Broadcast    netip.Addr `json:"broadcast,omitzero"` // IPv4 only
	First        netip.Addr `json:"first"`              // the first usable host
	Last         netip.Addr `json:"last"`
	Usable       Count      `json:"usable"`
	Total        Count      `json:"total"`
	// The address's number in decimal, hex and binary (the binary with a
	// space after the prefix length).
	Integer      string         `json:"integer,omitempty"`
	Hex          string         `json:"hex,omitempty"`
	Binary       string         `json:"binary,omitempty"`
	ReverseName  string         `json:"reverse_name,omitempty"`
	ReverseZone  string         `json:"reverse_zone,omitempty"`
	ReverseZones []string       `json:"reverse_zones,omitempty"`
	Class        string         `json:"class,omitempty"` // A to E, IPv4 only
	Scope        string         `json:"scope,omitempty"` // IPv6 only
	Type         string         `json:"type,omitempty"`  // the registry's name for the block
	RFC          string         `json:"rfc,omitempty"`
	Registry     *Entry         `json:"registry,omitempty"`
	Private      bool           `json:"private"`
	Global       bool           `json:"global"`
	Multicast    bool           `json:"multicast,omitempty"`
	EmbeddedIPv4 *Embedded      `json:"embedded_ipv4,omitempty"`
	Prefixes     []netip.Prefix `json:"prefixes,omitempty"` // a range as prefixes
}

// Kind is what an input is.
type Kind string

// The kinds of input.
const (
	KindAddress Kind = "address"
	KindPrefix  Kind = "prefix"
	KindRange   Kind = "range"
)

// Count is an exact number of addresses: IPv6 counts do not fit in 64
// bits. In JSON it is a decimal string, which no reader rounds.
type Count struct{ *big.Int }

// MarshalJSON writes the count as a decimal string.
func (c Count) MarshalJSON() ([]byte, error) {
	if c.Int == nil {
		return []byte(`"0"`), nil
	}
	return strconv.AppendQuote(nil, c.Int.String()), nil
}

// UnmarshalJSON reads a decimal string or a JSON number.
func (c *Count) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	n, ok := new(big.Int).SetString(s, 10)
	if !ok || n.Sign() < 0 {
		return fmt.Errorf("ipcalc: count %s is not a whole number", b)
	}
	c.Int = n
	return nil
}

// String is the count in decimal.
func (c Count) String() string {
	if c.Int == nil {
		return "0"
	}
	return c.Int.String()
}

// Embedded is an IPv4 address carried inside an IPv6 one.
type Embedded struct {
	How     string     `json:"how"` // "ipv4-mapped", "6to4", "nat64" or "teredo"
	Address netip.Addr `json:"address"`
	// Teredo also carries the client's UDP port.
	Port uint16 `json:"port,omitempty"`
	// TeredoServer is the Teredo server's address.
	TeredoServer netip.Addr `json:"teredo_server,omitzero"`
}

// Describe returns the facts of an entry parsed by ipset.ParseEntry.
func Describe(input string, e ipset.Entry) Facts {
	switch e.Kind {
	case ipset.KindRange:
		return describeRange(input, e.Range)
	case ipset.KindAddr:
		f := describePrefix(input, netip.PrefixFrom(e.Addr.WithZone(""), e.Addr.BitLen()))
		f.Kind = KindAddress
		f.Address = e.Addr // zone kept
		f.ReverseName = ReverseName(e.Addr)
		return f
	}
	f := describePrefix(input, e.Prefix.Masked())
	f.Kind = KindPrefix
	if h := e.Prefix.Addr(); h != e.Prefix.Masked().Addr() {
		// 192.168.0.186/24: a host and its network. The number forms
		// are the host's.
		f.Address = h
		f.ReverseName = ReverseName(h)
		f.Integer, f.Hex, f.Binary = numberForms(h, e.Prefix.Bits())
	}
	return f
}

func describePrefix(input string, p netip.Prefix) Facts {
	a := p.Addr()
	bits := p.Bits()
	width := a.BitLen()
	r := ipset.RangeOfPrefix(p)
	n := bits
	f := Facts{Input: input, PrefixLength: &n, Network: a, Total: Count{total(width - bits)}}
	first, last, usable := usableHosts(r, width, bits)
	f.First, f.Last, f.Usable = first, last, Count{usable}
	if a.Is4() {
		mask := maskAddr(bits)
		f.Netmask = mask
		f.Wildcard = notAddr(mask)
		f.Broadcast = r.To()
		f.Class = Class(a)
	} else {
		f.Scope = Scope(a)
	}
	f.Integer, f.Hex, f.Binary = numberForms(a, bits)
	zones := ReverseZones(p)
	f.ReverseZones = zones
	if len(zones) == 1 {
		f.ReverseZone = zones[0]
	}
	classify(&f, p)
	return f
}

// numberForms returns a's integer, hex and binary forms, the binary
// marked after bits.
func numberForms(a netip.Addr, bits int) (integer, hex, binary string) {
	n := toBig(a)
	return n.String(), fmt.Sprintf("0x%0*X", a.BitLen()/4, n), Binary(a, bits)
}

func describeRange(input string, r ipset.Range) Facts {
	cnt := new(big.Int).Sub(toBig(r.To()), toBig(r.From()))
	cnt.Add(cnt, big.NewInt(1))
	f := Facts{Input: input, Kind: KindRange, First: r.From(), Last: r.To(), Total: Count{cnt}, Usable: Count{cnt}, Prefixes: r.Prefixes()}
	// Classify by the smallest prefix that holds the whole range.
	classify(&f, Supernet(r.From(), r.To()))
	f.EmbeddedIPv4 = nil
	return f
}

// usableHosts returns the first and last host and their count: the
// network and broadcast addresses are not hosts in IPv4, nor is the
// subnet-router anycast address (the first) in IPv6, except on /31 and /32
// (RFC 3021) and /127 and /128 (RFC 6164), where every address is.
func usableHosts(r ipset.Range, width, bits int) (first, last netip.Addr, n *big.Int) {
	n = total(width - bits)
	switch {
	case width-bits <= 1:
		return r.From(), r.To(), n
	case width == 32:
		return r.From().Next(), r.To().Prev(), n.Sub(n, big.NewInt(2))
	}
	return r.From().Next(), r.To(), n.Sub(n, big.NewInt(1))
}

func total(hostBits int) *big.Int { return new(big.Int).Lsh(big.NewInt(1), uint(hostBits)) }

func toBig(a netip.Addr) *big.Int {
	b := a.AsSlice()
	return new(big.Int).SetBytes(b)
}

func maskAddr(bits int) netip.Addr {
	var b [4]byte
	for i := range 4 {
		for j := range 8 {
			if i*8+j < bits {
				b[i] |= 0x80 >> j
			}
		}
	}
	return netip.AddrFrom4(b)
}

func notAddr(a netip.Addr) netip.Addr {
	b := a.As4()
	for i := range b {
		b[i] = ^b[i]
	}
	return netip.AddrFrom4(b)
}

// Binary writes a in binary, octets (IPv4) or 16-bit groups (IPv6)
// separated by '.' or ':', with a '|' between the network and host bits.
func Binary(a netip.Addr, bits int) string {
	raw := a.AsSlice()
	var b strings.Builder
	group, sep := 8, byte('.')
	if a.Is6() {
		group, sep = 16, ':'
	}
	for i := range len(raw) * 8 {
		if i == bits {
			b.WriteByte('|')
		} else if i > 0 && i%group == 0 {
			b.WriteByte(sep)
		}
		if raw[i/8]&(0x80>>(i%8)) != 0 {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	if bits == len(raw)*8 {
		b.WriteByte('|')
	}
	return b.String()
}

// Class returns the historic class of an IPv4 address: A, B, C, D
// (multicast) or E (reserved).
func Class(a netip.Addr) string {
	switch o := a.As4()[0]; {
	case o < 128:
		return "A"
	case o < 192:
		return "B"
	case o < 224:
		return "C"
	case o < 240:
		return "D"
	}
	return "E"
}

// Scope returns the scope of an IPv6 address: for multicast, the scope
// field (interface-local, link-local, realm-local, admin-local,
// site-local, organization-local, global); for unicast, host (::1), link
// (fe80::/10), site (the deprecated fec0::/10) or global.
func Scope(a netip.Addr) string {
	if a.Is4In6() {
		return Scope(a.Unmap())
	}
	if a.Is4() {
		return ""
	}
	if a.IsMulticast() {
		switch a.As16()[1] & 0x0f {
		case 1:
			return "interface-local"
		case 2:
			return "link-local"
		case 3:
			return "realm-local"
		case 4:
			return "admin-local"
		case 5:
			return "site-local"
		case 8:
			return "organization-local"
		case 0xe:
			return "global"
		}
		return fmt.Sprintf("reserved (%x)", a.As16()[1]&0x0f)
	}
	switch {
	case a.IsLoopback():
		return "host"
	case a.IsLinkLocalUnicast():
		return "link"
	case netip.MustParsePrefix("fec0::/10").Contains(a):
		return "site"
	}
	return "global"
}

// classify fills the registry fields, the embedded IPv4 address, and the
// private and global answers.
func classify(f *Facts, p netip.Prefix) {
	a := p.Addr()
	if emb := EmbeddedIPv4(a); emb != nil && p.Bits() == 128 {
		f.EmbeddedIPv4 = emb
		if emb.How == "ipv4-mapped" {
			// A mapped address is the IPv4 address, for classification.
			inner := describePrefix(f.Input, netip.PrefixFrom(a.Unmap(), 32))
			f.Type, f.RFC, f.Registry, f.Private, f.Global = inner.Type, inner.RFC, inner.Registry, inner.Private, inner.Global
			f.Type = "IPv4-mapped Address: " + inner.Type
			if inner.Type == "" {
				f.Type = "IPv4-mapped Address"
			}
			return
		}
	}
	f.Multicast = a.IsMulticast() && p.Bits() >= multicastBits(a)
	if e, ok := Special(p); ok {
		e := e
		f.Type, f.RFC, f.Registry = e.Name, e.RFC, &e
		f.Global = e.Global == Yes
		f.Private = e.Global == No
		return
	}
	reg, _ := Registry(a.Is6())
	for _, e := range reg {
		if e.Block.Overlaps(p) {
			// Special blocks inside a larger prefix: it is neither
			// private nor global as a whole.
			return
		}
	}
	switch {
	case f.Multicast:
		f.Type = "Multicast"
		if a.Is4() {
			f.RFC = "RFC5771"
		} else {
			f.RFC = "RFC4291"
			f.Global = Scope(a) == "global"
		}
	case a.Is6() && p.Bits() >= 3 && !globalUnicast.Contains(a):
		f.Type = "Reserved by IETF" // outside global unicast space (RFC 4291)
	default:
		f.Global = true
	}
}

func multicastBits(a netip.Addr) int {
	if a.Is4() {
		return 4
	}
	return 8
}

var (
	globalUnicast = netip.MustParsePrefix("2000::/3")
	nat64         = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4        = netip.MustParsePrefix("2002::/16")
	teredo        = netip.MustParsePrefix("2001::/32")
	mapped4       = netip.MustParsePrefix("::ffff:0:0/96")
)

// EmbeddedIPv4 returns the IPv4 address inside an IPv4-mapped, NAT64
// (64:ff9b::/96), 6to4 or Teredo address, or nil.
func EmbeddedIPv4(a netip.Addr) *Embedded {
	if !a.Is6() {
		return nil
	}
	a = a.WithZone("")
	b := a.As16()
	v4 := func(x []byte) netip.Addr { return netip.AddrFrom4([4]byte(x)) }
	switch {
	case mapped4.Contains(a):
		return &Embedded{How: "ipv4-mapped", Address: v4(b[12:16])}
	case nat64.Contains(a):
		return &Embedded{How: "nat64", Address: v4(b[12:16])}
	case sixTo4.Contains(a):
		return &Embedded{How: "6to4", Address: v4(b[2:6])}
	case teredo.Contains(a):
		client := [4]byte{^b[12], ^b[13], ^b[14], ^b[15]}
		port := (uint16(b[10])<<8 | uint16(b[11])) ^ 0xffff
		return &Embedded{How: "teredo", Address: netip.AddrFrom4(client), Port: port, TeredoServer: v4(b[4:8])}
	}
	return nil
}

// ReverseName returns the PTR name of a: d.c.b.a.in-addr.arpa. or the
// nibble name under ip6.arpa.
func ReverseName(a netip.Addr) string {
	a = a.WithZone("")
	if a.Is4() {
		o := a.As4()
		return fmt.Sprintf("%d.%d.%d.%d.in-addr.arpa.", o[3], o[2], o[1], o[0])
	}
	return nibbles(a, 32) + "ip6.arpa."
}

// nibbles returns the first n nibbles of a, reversed, each followed by a
// dot.
func nibbles(a netip.Addr, n int) string {
	const hex = "0123456789abcdef"
	b := a.As16()
	var s strings.Builder
	for i := n - 1; i >= 0; i-- {
		v := b[i/2]
		if i%2 == 0 {
			v >>= 4
		}
		s.WriteByte(hex[v&0xf])
		s.WriteByte('.')
	}
	return s.String()
}

// ReverseZones returns the reverse DNS zones that hold the PTR records of
// p. An IPv4 prefix that ends on an octet has one zone; a longer one is
// delegated RFC 2317 style, as "FIRST/LEN.c.b.a.in-addr.arpa."; a shorter
// one spans the zones of the next octet boundary (a /23 is two /24 zones).
// IPv6 zones are nibble zones likewise. At most 256 zones are listed.
func ReverseZones(p netip.Prefix) []string {
	p = p.Masked()
	a := p.Addr()
	if a.Is4() {
		o := a.As4()
		bits := p.Bits()
		switch {
		case bits%8 == 0:
			return []string{v4zone(o, bits/8)}
		case bits > 24:
			return []string{fmt.Sprintf("%d/%d.%d.%d.%d.in-addr.arpa.", o[3], bits, o[2], o[1], o[0])}
		}
		octets := bits/8 + 1
		count := 1 << (octets*8 - bits)
		var out []string
		for i := 0; i < count && i < 256; i++ {
			x := o
			x[octets-1] += byte(i)
			out = append(out, v4zone(x, octets))
		}
		return out
	}
	bits := p.Bits()
	if bits%4 == 0 {
		return []string{nibbles(a, bits/4) + "ip6.arpa."}
	}
	nib := bits/4 + 1
	count := 1 << (nib*4 - bits)
	var out []string
	b := a.As16()
	for i := range count {
		x := b
		idx := (nib - 1) / 2
		if (nib-1)%2 == 0 {
			x[idx] += byte(i << 4)
		} else {
			x[idx] += byte(i)
		}
		out = append(out, nibbles(netip.AddrFrom16(x), nib)+"ip6.arpa.")
	}
	return out
}

func v4zone(o [4]byte, octets int) string {
	var parts []string
	for i := octets - 1; i >= 0; i-- {
		parts = append(parts, fmt.Sprint(o[i]))
	}
	return strings.Join(append(parts, "in-addr.arpa."), ".")
}
