package route

import (
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/netkit-dev/netkit/internal/fieldlines"
)

var (
	routeTypes = map[string]bool{"unicast": true, "local": true, "broadcast": true, "anycast": true, "multicast": true, "blackhole": true, "unreachable": true, "prohibit": true, "throw": true, "nat": true}
	// valued keywords of `ip route` output whose values netkit reads or skips
	valued    = map[string]bool{"via": true, "dev": true, "src": true, "metric": true, "table": true, "proto": true, "scope": true, "pref": true, "mtu": true, "advmss": true, "expires": true, "weight": true, "realm": true, "hoplimit": true, "rtt": true, "rttvar": true, "cwnd": true, "initcwnd": true, "initrwnd": true, "quickack": true, "features": true, "error": true, "tos": true, "from": true, "nhid": true}
	flagWords = map[string]bool{"linkdown": true, "onlink": true, "dead": true, "pervasive": true, "notify": true, "offload": true, "trap": true, "rt_offload": true, "rt_trap": true, "cache": true, "inet6": true, "inet": true}
)

// ParseTable reads routes written as `ip route show` (or `ip -6 route`,
// or `ip route show table all`) prints them, one per line; '#' comments and
// blank lines are skipped. Unknown words are errors that name the line.
func ParseTable(r io.Reader, name string) ([]Route, error) {
	var out []Route
	err := fieldlines.Each(r, name, func(_ int, f []string) error {
		if f[0] == "nexthop" { // a hop of the multipath route above
			if len(out) == 0 {
				return fmt.Errorf("a nexthop line with no route above it")
			}
			n, err := parseNexthop(f[1:])
			if err != nil {
				return err
			}
			addHop(&out[len(out)-1], n)
			return nil
		}
		rt, err := parseRoute(f)
		out = append(out, rt)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// addHop adds a hop to a multipath route; the first is also its Gateway
// and Iface.
func addHop(r *Route, n Nexthop) {
	if len(r.Nexthops) == 0 {
		r.Gateway, r.Iface = n.Gateway, n.Iface
		if r.Gateway.IsValid() && r.Scope == ScopeLink {
			r.Scope = ScopeGlobal
		}
	}
	r.Nexthops = append(r.Nexthops, n)
}

// parseNexthop reads the words after "nexthop": via [inet|inet6] ADDR,
// dev IFACE, weight N, and flags.
func parseNexthop(f []string) (Nexthop, error) {
	n := Nexthop{Weight: 1}
	for i := 0; i < len(f); i++ {
		w := f[i]
		if flagWords[w] {
			continue
		}
		if i+1 >= len(f) {
			return n, fmt.Errorf("nexthop: %q needs a value", w)
		}
		i++
		switch w {
		case "via":
			if f[i] == "inet" || f[i] == "inet6" {
				if i+1 >= len(f) {
					return n, fmt.Errorf("nexthop: via needs an address")
				}
				i++
			}
			a, err := netip.ParseAddr(f[i])
			if err != nil {
				return n, fmt.Errorf("nexthop via %q: not an address", f[i])
			}
			n.Gateway = a
		case "dev":
			n.Iface = f[i]
		case "weight":
			x, err := strconv.Atoi(f[i])
			if err != nil || x < 1 || x > 256 {
				return n, fmt.Errorf("nexthop weight %q: 1 to 256", f[i])
			}
			n.Weight = x
		case "realm", "realms":
		default:
			return n, fmt.Errorf("nexthop: unknown word %q", w)
		}
	}
	return n, nil
}

func parseRoute(f []string) (Route, error) {
	// A multipath route on one line (ip -o): its hops follow "nexthop".
	var hops [][]string
	for i, w := range f {
		if w == "nexthop" {
			rest := f[i+1:]
			f = f[:i]
			for len(rest) > 0 {
				j := slices.Index(rest, "nexthop")
				if j < 0 {
					j = len(rest)
				}
				hops = append(hops, rest[:j])
				rest = rest[min(j+1, len(rest)):]
			}
			break
		}
	}
	r, err := parseRouteWords(f)
	if err != nil {
		return r, err
	}
	for _, h := range hops {
		n, err := parseNexthop(h)
		if err != nil {
			return r, err
		}
		addHop(&r, n)
	}
	return r, nil
}

func parseRouteWords(f []string) (Route, error) {
	r := Route{Type: KindUnicast, Table: TableMain, Scope: ScopeGlobal}
	if routeTypes[f[0]] {
		r.Type = Kind(f[0])
		f = f[1:]
		if r.Type == KindLocal {
			r.Table, r.Scope = TableLocal, ScopeHost
		}
	}
	if len(f) == 0 {
		return r, fmt.Errorf("no destination")
	}
	dst := f[0]
	f = f[1:]
	values := map[string]string{}
	for i := 0; i < len(f); i++ {
		w := f[i]
		switch {
		case valued[w]:
			if i+1 >= len(f) {
				return r, fmt.Errorf("%q needs a value", w)
			}
			i++
			if w == "via" && (f[i] == "inet6" || f[i] == "inet") {
				if i+1 >= len(f) {
					return r, fmt.Errorf("%q needs an address", "via "+f[i])
				}
				i++
			}
			values[w] = f[i]
		case flagWords[w]:
		default:
			return r, fmt.Errorf("unknown word %q (netkit reads `ip route` output)", w)
		}
	}
	if s, ok := values["via"]; ok {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return r, fmt.Errorf("via %q: not an address", s)
		}
		r.Gateway = a
	}
	if s, ok := values["src"]; ok {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return r, fmt.Errorf("src %q: not an address", s)
		}
		r.Src = a
	}
	if dst == "default" {
		v6 := r.Gateway.Is6() || r.Src.Is6()
		if v6 {
			r.Dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		} else {
			r.Dst = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		}
	} else if strings.Contains(dst, "/") {
		p, err := netip.ParsePrefix(dst)
		if err != nil {
			return r, fmt.Errorf("destination %q: %v", dst, err)
		}
		r.Dst = p.Masked()
	} else {
		a, err := netip.ParseAddr(dst)
		if err != nil {
			return r, fmt.Errorf("destination %q: not an address or prefix", dst)
		}
		r.Dst = netip.PrefixFrom(a, a.BitLen())
	}
	r.Iface = values["dev"]
	r.Proto = values["proto"]
	if s, ok := values["scope"]; ok {
		r.Scope = Scope(s)
	} else if !r.Gateway.IsValid() && r.Type == KindUnicast && values["dev"] != "" {
		r.Scope = ScopeLink
	}
	if s, ok := values["metric"]; ok {
		m, err := strconv.Atoi(s)
		if err != nil || m < 0 {
			return r, fmt.Errorf("metric %q: not a number", s)
		}
		r.Metric = m
	}
	if s, ok := values["table"]; ok {
		switch s {
		case "local":
			r.Table = TableLocal
		case "main":
			r.Table = TableMain
		case "default":
			r.Table = TableDefault
		default:
			t, err := strconv.Atoi(s)
			if err != nil || t < 0 {
				return r, fmt.Errorf("table %q: not a number or local, main, default", s)
			}
			r.Table = t
		}
	}
	return r, nil
}
