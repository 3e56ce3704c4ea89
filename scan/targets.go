package scan

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"strings"

	"github.com/netkit-dev/netkit/ipset"
)

// MaxTargets caps how many addresses one scan may name, so that a typo
// such as 10.0.0.0/8 or an IPv6 /64 is an error rather than a scan that
// never ends.
const MaxTargets = 1 << 20

// Targets turns target arguments into addresses: an address (IPv4, or IPv6
// with an optional %zone), a prefix (every address in it, network and
// broadcast included, as nmap), a range (192.0.2.1-192.0.2.20), or a host
// name (its first address, IPv4 preferred, as nmap). Addresses in exclude
// (the same forms) are left out. The order is the order given, each
// address once.
func Targets(ctx context.Context, r *net.Resolver, args, exclude []string) ([]netip.Addr, error) {
	var ex ipset.Builder
	for _, e := range exclude {
		rs, err := expand(ctx, r, e)
		if err != nil {
			return nil, fmt.Errorf("--exclude: %w", err)
		}
		for _, rg := range rs {
			ex.AddRange(rg)
		}
	}
	exSet := ex.Set()
	var out []netip.Addr
	seen := map[netip.Addr]bool{}
	for _, a := range args {
		if addr, err := netip.ParseAddr(a); err == nil { // may carry a zone
			if !seen[addr] && !exSet.Contains(addr.WithZone("")) && len(out) < MaxTargets {
				seen[addr] = true
				out = append(out, addr)
			}
			continue
		}
		rs, err := expand(ctx, r, a)
		if err != nil {
			return nil, err
		}
		for _, rg := range rs {
			if n := rangeSize(rg); n.Cmp(big.NewInt(MaxTargets)) > 0 || len(out)+int(n.Int64()) > MaxTargets {
				return nil, fmt.Errorf("target %q: more than %d addresses in one scan; name a smaller range", a, MaxTargets)
			}
			for addr := rg.From(); ; addr = addr.Next() {
				if !seen[addr] && !exSet.Contains(addr.WithZone("")) {
					seen[addr] = true
					out = append(out, addr)
				}
				if addr == rg.To() {
					break
				}
			}
		}
	}
	return out, nil
}

// expand reads one target argument.
func expand(ctx context.Context, r *net.Resolver, s string) ([]ipset.Range, error) {
	if s == "" {
		return nil, errors.New("empty target")
	}
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.WithZone("")
		return []ipset.Range{ipset.RangeFrom(a, a)}, nil
	}
	if e, err := ipset.ParseEntry(s); err == nil {
		return []ipset.Range{e.Range}, nil
	} else if looksNumeric(s) {
		return nil, fmt.Errorf("target %q: %w", s, err)
	}
	if strings.ContainsAny(s, "/ ,") {
		return nil, fmt.Errorf("target %q: not an address, prefix, range or host name", s)
	}
	h := strings.ToLower(strings.TrimSuffix(s, "."))
	if h == "invalid" || strings.HasSuffix(h, ".invalid") {
		return nil, fmt.Errorf("target %q: no such host (names under .invalid never resolve)", s)
	}
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, "ip", s)
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", s, err)
	}
	best := addrs[0].Unmap()
	for _, a := range addrs {
		if a.Unmap().Is4() {
			best = a.Unmap()
			break
		}
	}
	return []ipset.Range{ipset.RangeFrom(best, best)}, nil
}

// looksNumeric reports whether s is meant as an address, prefix or range
// (digits, dots, colons), so its parse error is the one to show.
func looksNumeric(s string) bool {
	return strings.Trim(s, "0123456789.:/-abcdefABCDEF%") == "" && strings.ContainsAny(s, ".:")
}

func rangeSize(r ipset.Range) *big.Int {
	from, to := r.From().As16(), r.To().As16()
	n := new(big.Int).Sub(new(big.Int).SetBytes(to[:]), new(big.Int).SetBytes(from[:]))
	return n.Add(n, big.NewInt(1))
}
