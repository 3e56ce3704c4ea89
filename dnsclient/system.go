// Package dnsclient resolves names. [System] asks the system's resolver
// as getaddrinfo does: /etc/hosts first, then DNS as /etc/resolv.conf
// says, following nsswitch.conf's order.
package dnsclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
)

// Family selects which addresses a lookup returns.
type Family int

// The address families.
const (
	AnyFamily Family = iota // IPv4 and IPv6
	IPv4                    // IPv4 only
	IPv6                    // IPv6 only
)

// Host is the answer of the system resolver for one name.
type Host struct {
	// Name is the name that was asked for.
	Name string
	// Canonical is the canonical name: where CNAMEs lead, or the first
	// name of the matching /etc/hosts line. Without a trailing dot.
	Canonical string
	// Addrs holds every address, IPv4 first, in the resolver's order
	// within each family.
	Addrs []netip.Addr
}

// System resolves names with the system's resolver. Its zero value uses
// net.DefaultResolver.
type System struct {
	// Resolver does the lookups. If nil, net.DefaultResolver.
	Resolver *net.Resolver
}

// ErrInvalidName is returned for names under the special-use domain
// "invalid." (RFC 6761 section 6.4), which are never looked up.
var ErrInvalidName = errors.New(`dnsclient: names under "invalid." never resolve (RFC 6761)`)

// FamilyError is a literal address asked for in the other family.
type FamilyError struct {
	Addr netip.Addr
	Want Family
}

func (e *FamilyError) Error() string {
	return fmt.Sprintf("dnsclient: %s is not an %s address", e.Addr, e.Want)
}

// Lookup resolves name to its addresses and canonical name. A name that
// does not exist yields a *net.DNSError whose IsNotFound is true.
func (s *System) Lookup(ctx context.Context, name string, fam Family) (Host, error) {
	r := s.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	if isInvalidTLD(name) {
		// RFC 6761 asks resolver libraries to fail these at once; doing so
		// also keeps such a query from leaving the machine.
		return Host{}, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true, UnwrapErr: ErrInvalidName}
	}
	if a, err := netip.ParseAddr(name); err == nil {
		// A literal resolves to itself, as getaddrinfo does.
		if fam == IPv4 && !a.Is4() || fam == IPv6 && !a.Is6() {
			return Host{}, &FamilyError{Addr: a, Want: fam}
		}
		return Host{Name: name, Canonical: name, Addrs: []netip.Addr{a}}, nil
	}
	network := map[Family]string{AnyFamily: "ip", IPv4: "ip4", IPv6: "ip6"}[fam]
	var (
		wg    sync.WaitGroup
		cname string
		cerr  error
	)
	wg.Go(func() { cname, cerr = r.LookupCNAME(ctx, name) })
	addrs, err := r.LookupNetIP(ctx, network, name)
	wg.Wait()
	if err != nil {
		return Host{}, err
	}
	h := Host{Name: name, Canonical: strings.TrimSuffix(name, ".")}
	if cerr == nil && cname != "" {
		h.Canonical = strings.TrimSuffix(cname, ".")
	}
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	// IPv4 first, then IPv6, each in the resolver's order, without repeats.
	slices.SortStableFunc(addrs, func(x, y netip.Addr) int {
		switch {
		case x.Is4() && !y.Is4():
			return -1
		case !x.Is4() && y.Is4():
			return 1
		}
		return 0
	})
	seen := make(map[netip.Addr]bool, len(addrs))
	for _, a := range addrs {
		if !seen[a] {
			seen[a] = true
			h.Addrs = append(h.Addrs, a)
		}
	}
	return h, nil
}

func (f Family) String() string {
	switch f {
	case IPv4:
		return "IPv4"
	case IPv6:
		return "IPv6"
	}
	return "IP"
}

func isInvalidTLD(name string) bool {
	n := strings.ToLower(strings.TrimSuffix(name, "."))
	return n == "invalid" || strings.HasSuffix(n, ".invalid")
}
