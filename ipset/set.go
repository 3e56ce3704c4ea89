// Package ipset holds sets of IP addresses: an immutable [Set] made by a
// [Builder], inclusive address ranges ([Range]) and their conversion to the
// fewest prefixes, set algebra (union, intersection, difference), a
// streaming [Aggregator] for sorted input, and a strict parser for the
// lines of address lists ([ParseEntry]).
//
// IPv4 and IPv6 live side by side in one set and never mix: 192.0.2.1 and
// ::ffff:192.0.2.1 are different addresses. Zones are not part of sets.
package ipset

import (
	"math/big"
	"net/netip"
	"slices"
	"unsafe"
)

const (
	maxU32 = u32(^uint32(0))
)

var maxU128 = u128{^uint64(0), ^uint64(0)}

// Set is an immutable set of addresses. The zero Set is empty and ready to
// use.
type Set struct {
	v4 []span[u32]
	v6 []span[u128]
}

// Builder builds a Set. Adds and removes apply in the order they are made.
// The zero Builder is empty and ready to use.
type Builder struct {
	v4     []span[u32]
	v6     []span[u128]
	sorted bool // v4 and v6 are normalized
}

func v4span(r Range) span[u32] {
	return span[u32]{lo: u32(u128From(r.from).lo), hi: u32(u128From(r.to).lo)}
}

func v6span(r Range) span[u128] {
	return span[u128]{lo: u128From(r.from), hi: u128From(r.to)}
}

// Add adds one address (its zone is dropped).
func (b *Builder) Add(a netip.Addr) {
	if a.IsValid() {
		a = a.WithZone("")
		b.AddRange(Range{a, a})
	}
}

// AddPrefix adds the addresses of p.
func (b *Builder) AddPrefix(p netip.Prefix) {
	if p.IsValid() {
		b.AddRange(RangeOfPrefix(p))
	}
}

// AddRange adds the addresses of r.
func (b *Builder) AddRange(r Range) {
	if !r.IsValid() {
		return
	}
	b.sorted = false
	if r.from.Is4() {
		b.v4 = append(b.v4, v4span(r))
	} else {
		b.v6 = append(b.v6, v6span(r))
	}
}

// AddSet adds every address of s.
func (b *Builder) AddSet(s Set) {
	b.sorted = false
	b.v4 = append(b.v4, s.v4...)
	b.v6 = append(b.v6, s.v6...)
}

// Remove removes one address.
func (b *Builder) Remove(a netip.Addr) {
	if a.IsValid() {
		a = a.WithZone("")
		b.RemoveRange(Range{a, a})
	}
}

// RemovePrefix removes the addresses of p.
func (b *Builder) RemovePrefix(p netip.Prefix) {
	if p.IsValid() {
		b.RemoveRange(RangeOfPrefix(p))
	}
}

// RemoveRange removes the addresses of r.
func (b *Builder) RemoveRange(r Range) {
	if !r.IsValid() {
		return
	}
	b.normalize()
	if r.from.Is4() {
		b.v4 = difference(b.v4, []span[u32]{v4span(r)})
	} else {
		b.v6 = difference(b.v6, []span[u128]{v6span(r)})
	}
}

// RemoveSet removes every address of s.
func (b *Builder) RemoveSet(s Set) {
	b.normalize()
	b.v4 = difference(b.v4, s.v4)
	b.v6 = difference(b.v6, s.v6)
}

func (b *Builder) normalize() {
	if b.sorted {
		return
	}
	sortV4(b.v4)
	slices.SortFunc(b.v6, cmpSpan[u128])
	b.v4 = mergeSorted(b.v4, maxU32)
	b.v6 = mergeSorted(b.v6, maxU128)
	b.sorted = true
}

// Grow makes room for n4 more IPv4 and n6 more IPv6 entries, so that a
// caller that knows the size of its input (see [CountList]) spares the
// Builder the copies, and the memory, of growing its slices.
func (b *Builder) Grow(n4, n6 int) {
	b.v4 = slices.Grow(b.v4, n4)
	b.v6 = slices.Grow(b.v6, n6)
}

// sortV4 sorts IPv4 spans by start, then end. On little-endian machines it
// sorts them as plain uint64s (see span), which is several times faster
// than a comparison function.
func sortV4(s []span[u32]) {
	if !littleEndian || len(s) == 0 {
		slices.SortFunc(s, cmpSpan[u32])
		return
	}
	slices.Sort(unsafe.Slice((*uint64)(unsafe.Pointer(&s[0])), len(s)))
}

var littleEndian = func() bool {
	x := span[u32]{lo: 1}
	return *(*uint64)(unsafe.Pointer(&x)) == 1<<32
}()

// Set returns the set built so far. The Builder may go on being used.
func (b *Builder) Set() Set {
	b.normalize()
	return Set{v4: slices.Clip(slices.Clone(b.v4)), v6: slices.Clip(slices.Clone(b.v6))}
}

// Union returns the addresses in s or t.
func (s Set) Union(t Set) Set {
	return Set{v4: union(s.v4, t.v4, maxU32), v6: union(s.v6, t.v6, maxU128)}
}

// Intersect returns the addresses in both s and t.
func (s Set) Intersect(t Set) Set {
	return Set{v4: intersect(s.v4, t.v4), v6: intersect(s.v6, t.v6)}
}

// Difference returns the addresses in s but not in t.
func (s Set) Difference(t Set) Set {
	return Set{v4: difference(s.v4, t.v4), v6: difference(s.v6, t.v6)}
}

// Contains reports whether a (without its zone) is in s.
func (s Set) Contains(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	if a.Is4() {
		return containsSpan(s.v4, u32(u128From(a).lo))
	}
	return containsSpan(s.v6, u128From(a))
}

// ContainsPrefix reports whether every address of p is in s.
func (s Set) ContainsPrefix(p netip.Prefix) bool {
	r := RangeOfPrefix(p)
	return s.containsRange(r)
}

func (s Set) containsRange(r Range) bool {
	if !r.IsValid() {
		return false
	}
	if r.from.Is4() {
		x := v4span(r)
		i, ok := slices.BinarySearchFunc(s.v4, x.lo, func(sp span[u32], a u32) int {
			switch {
			case sp.hi < a:
				return -1
			case a < sp.lo:
				return 1
			}
			return 0
		})
		return ok && x.hi <= s.v4[i].hi
	}
	x := v6span(r)
	for _, sp := range s.v6 {
		if !x.lo.less(sp.lo) && !sp.hi.less(x.hi) {
			return true
		}
	}
	return false
}

// IsEmpty reports whether s has no addresses.
func (s Set) IsEmpty() bool { return len(s.v4) == 0 && len(s.v6) == 0 }

// Equal reports whether s and t hold the same addresses.
func (s Set) Equal(t Set) bool { return slices.Equal(s.v4, t.v4) && slices.Equal(s.v6, t.v6) }

// Ranges returns the set as the fewest ranges, IPv4 first, in order.
func (s Set) Ranges() []Range {
	out := make([]Range, 0, len(s.v4)+len(s.v6))
	for _, x := range s.v4 {
		out = append(out, Range{u128{0, uint64(x.lo)}.addr(true), u128{0, uint64(x.hi)}.addr(true)})
	}
	for _, x := range s.v6 {
		out = append(out, Range{x.lo.addr(false), x.hi.addr(false)})
	}
	return out
}

// Prefixes returns the set as the fewest prefixes, IPv4 first, in order.
func (s Set) Prefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, r := range s.Ranges() {
		out = r.AppendPrefixes(out)
	}
	return out
}

// Count returns the number of addresses: IPv4 and IPv6 separately, as the
// IPv6 count can pass 2^64.
func (s Set) Count() (v4, v6 *big.Int) {
	v4, v6 = new(big.Int), new(big.Int)
	for _, x := range s.v4 {
		v4.Add(v4, big.NewInt(int64(x.hi)-int64(x.lo)+1))
	}
	one := big.NewInt(1)
	var t big.Int
	for _, x := range s.v6 {
		d := x.hi.sub(x.lo)
		t.SetUint64(d.hi)
		t.Lsh(&t, 64)
		t.Or(&t, new(big.Int).SetUint64(d.lo))
		t.Add(&t, one)
		v6.Add(v6, &t)
	}
	return v4, v6
}
