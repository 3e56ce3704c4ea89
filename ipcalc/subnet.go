package ipcalc

import (
	"crypto/rand"
	"fmt"
	"iter"
	"math/big"
	"math/bits"
	"net/netip"
	"slices"

	"github.com/netkit-dev/netkit/ipset"
)

// Supernet returns the smallest prefix that holds every address given
// (all of one family).
func Supernet(addrs ...netip.Addr) netip.Prefix {
	if len(addrs) == 0 {
		return netip.Prefix{}
	}
	first := addrs[0].WithZone("").AsSlice()
	common := len(first) * 8
	for _, a := range addrs[1:] {
		b := a.WithZone("").AsSlice()
		if len(b) != len(first) {
			return netip.Prefix{}
		}
		for i := range b {
			if x := first[i] ^ b[i]; x != 0 {
				common = min(common, i*8+bits.LeadingZeros8(x))
				break
			}
		}
	}
	p, _ := addrs[0].WithZone("").Prefix(common)
	return p
}

// SupernetOf returns the smallest prefix that holds every prefix given.
func SupernetOf(ps ...netip.Prefix) (netip.Prefix, error) {
	if len(ps) == 0 {
		return netip.Prefix{}, errorf("no prefixes")
	}
	var addrs []netip.Addr
	for _, p := range ps {
		if p.Addr().Is4() != ps[0].Addr().Is4() {
			return netip.Prefix{}, errorf("%s and %s are of different families", ps[0], p)
		}
		r := ipset.RangeOfPrefix(p)
		addrs = append(addrs, r.From(), r.To())
	}
	return Supernet(addrs...), nil
}

// Subnets yields the subnets of p that are bits long, in order.
func Subnets(p netip.Prefix, bits int) (iter.Seq[netip.Prefix], error) {
	p = p.Masked()
	if bits < p.Bits() || bits > p.Addr().BitLen() {
		return nil, errorf("cannot split %s into /%d: the new length must be %d-%d", p, bits, p.Bits(), p.Addr().BitLen())
	}
	return func(yield func(netip.Prefix) bool) {
		r := ipset.RangeOfPrefix(p)
		a := r.From()
		for {
			sub := netip.PrefixFrom(a, bits)
			if !yield(sub) {
				return
			}
			last := ipset.RangeOfPrefix(sub).To()
			if last == r.To() {
				return
			}
			a = last.Next()
		}
	}, nil
}

// SplitCount splits p into n subnets of equal size, as large as n allows:
// the new length is p's plus ceil(log2 n). It returns the first n.
func SplitCount(p netip.Prefix, n int) ([]netip.Prefix, error) {
	if n < 1 {
		return nil, errorf("cannot split into %d subnets", n)
	}
	extra := bits.Len(uint(n - 1))
	if p.Bits()+extra > p.Addr().BitLen() {
		return nil, errorf("%s has no room for %d subnets", p, n)
	}
	seq, err := Subnets(p, p.Bits()+extra)
	if err != nil {
		return nil, err
	}
	var out []netip.Prefix
	for s := range seq {
		out = append(out, s)
		if len(out) == n {
			break
		}
	}
	return out, nil
}

// Allocation is one subnet of a VLSM plan.
type Allocation struct {
	Hosts  int          `json:"hosts"`  // hosts asked for
	Prefix netip.Prefix `json:"prefix"` // the subnet given, or invalid if it did not fit
	Usable Count        `json:"usable"` // usable hosts in it (0 if it did not fit)
}

// SplitHosts plans variable-length subnets of p for the host counts given
// (VLSM): each gets the smallest subnet with that many usable hosts,
// placed largest first so nothing is wasted in alignment. It returns the
// allocations in the order asked, and the space left over as prefixes. An
// allocation that does not fit has an invalid Prefix.
func SplitHosts(p netip.Prefix, hosts []int) ([]Allocation, []netip.Prefix, error) {
	p = p.Masked()
	width := p.Addr().BitLen()
	type req struct{ i, hosts, bits int }
	var reqs []req
	for i, h := range hosts {
		if h < 1 {
			return nil, nil, errorf("a subnet needs at least 1 host, not %d", h)
		}
		b := bitsForHosts(h, width)
		if b < 0 {
			return nil, nil, errorf("%d hosts do not fit in any IPv%d subnet", h, map[int]int{32: 4, 128: 6}[width])
		}
		reqs = append(reqs, req{i, h, b})
	}
	slices.SortStableFunc(reqs, func(a, b req) int { return a.bits - b.bits })
	out := make([]Allocation, len(hosts))
	var free ipset.Builder
	free.AddPrefix(p)
	for _, r := range reqs {
		out[r.i] = Allocation{Hosts: r.hosts}
		if r.bits < p.Bits() {
			continue
		}
		// The first free, aligned block of that size.
		set := free.Set()
		for _, fp := range set.Prefixes() {
			if fp.Bits() <= r.bits {
				got := netip.PrefixFrom(fp.Addr(), r.bits)
				out[r.i].Prefix = got
				_, _, u := usableHosts(ipset.RangeOfPrefix(got), width, r.bits)
				out[r.i].Usable = Count{u}
				free.RemovePrefix(got)
				break
			}
		}
	}
	return out, free.Set().Prefixes(), nil
}

// bitsForHosts returns the longest prefix length whose subnet has at
// least h usable hosts, or -1.
func bitsForHosts(h, width int) int {
	for b := width; b >= 0; b-- {
		_, _, u := usableHosts(ipset.RangeOfPrefix(netip.PrefixFrom(zeroAddr(width), b)), width, b)
		if u.Cmp(big.NewInt(int64(h))) >= 0 {
			return b
		}
	}
	return -1
}

func zeroAddr(width int) netip.Addr {
	if width == 32 {
		return netip.IPv4Unspecified()
	}
	return netip.IPv6Unspecified()
}

// Nth returns the n-th address of p, counting from 0; a negative n counts
// back from the end (-1 is the last address).
func Nth(p netip.Prefix, n *big.Int) (netip.Addr, error) {
	p = p.Masked()
	r := ipset.RangeOfPrefix(p)
	size := total(p.Addr().BitLen() - p.Bits())
	idx := new(big.Int).Set(n)
	if idx.Sign() < 0 {
		idx.Add(idx, size)
	}
	if idx.Sign() < 0 || idx.Cmp(size) >= 0 {
		return netip.Addr{}, errorf("%s has %s addresses; index %s is out of range (use 0 to %s, or -1 to -%s)", p, size, n, new(big.Int).Sub(size, big.NewInt(1)), size)
	}
	return addBig(r.From(), idx), nil
}

func addBig(a netip.Addr, n *big.Int) netip.Addr {
	v := new(big.Int).Add(toBig(a), n)
	b := v.FillBytes(make([]byte, a.BitLen()/8))
	out, _ := netip.AddrFromSlice(b)
	return out
}

// Random returns a uniformly random address of p, from crypto/rand.
func Random(p netip.Prefix) (netip.Addr, error) {
	p = p.Masked()
	size := total(p.Addr().BitLen() - p.Bits())
	n, err := rand.Int(rand.Reader, size)
	if err != nil {
		return netip.Addr{}, err
	}
	return addBig(p.Addr(), n), nil
}

// Error is a request that address arithmetic cannot meet: a split into
// more subnets than a prefix holds, an index past the end, prefixes of two
// families. Reason says why.
type Error struct{ Reason string }

func (e *Error) Error() string { return "ipcalc: " + e.Reason }

func errorf(format string, args ...any) error { return &Error{Reason: fmt.Sprintf(format, args...)} }
