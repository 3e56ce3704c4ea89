package route

import (
	"net/netip"
	"strings"
	"testing"
)

const sample = `# ip route show table all, trimmed
default via 192.0.2.1 dev eth0 proto dhcp src 192.0.2.50 metric 100
192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.50 metric 100
198.51.100.0/24 via 192.0.2.254 dev eth0
198.51.100.128/25 via 192.0.2.253 dev eth0 metric 10
198.51.100.128/25 via 192.0.2.252 dev eth0 metric 5
unreachable 203.0.113.0/24
local 192.0.2.50 dev eth0 table local proto kernel scope host src 192.0.2.50
broadcast 192.0.2.255 dev eth0 table local proto kernel scope link src 192.0.2.50
default via fe80::1 dev eth0 proto ra metric 1024 expires 1799sec pref medium
2001:db8::/64 dev eth0 proto kernel metric 256 pref medium
`

func TestParseAndLookup(t *testing.T) {
	routes, err := ParseTable(strings.NewReader(sample), "sample")
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) != 10 {
		t.Fatalf("parsed %d routes, want 10", len(routes))
	}
	tab := NewTable(routes)
	tests := []struct {
		dst, route string
		direct     bool
	}{
		{"8.8.8.8", "default via 192.0.2.1 dev eth0 proto dhcp src 192.0.2.50 metric 100", false},
		{"192.0.2.7", "192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.50 metric 100", true},
		{"198.51.100.1", "198.51.100.0/24 via 192.0.2.254 dev eth0", false},
		// Longest prefix, then the lowest metric.
		{"198.51.100.200", "198.51.100.128/25 via 192.0.2.252 dev eth0 metric 5", false},
		{"203.0.113.9", "unreachable 203.0.113.0/24", false},
		// The local table comes first.
		{"192.0.2.50", "local 192.0.2.50/32 dev eth0 table local proto kernel scope host src 192.0.2.50", false},
		{"2001:db8::1", "2001:db8::/64 dev eth0 proto kernel scope link metric 256", true},
		{"2001:4860::1", "default via fe80::1 dev eth0 proto ra metric 1024", false},
	}
	for _, tt := range tests {
		r, ok := tab.Lookup(netip.MustParseAddr(tt.dst))
		if !ok || r.String() != tt.route || r.DirectlyConnected() != tt.direct {
			t.Errorf("Lookup(%s) = %q (direct %v), want %q (direct %v)", tt.dst, r, r.DirectlyConnected(), tt.route, tt.direct)
		}
	}
	if _, ok := NewTable(routes[2:3]).Lookup(netip.MustParseAddr("8.8.8.8")); ok {
		t.Error("a lookup with no matching route succeeded")
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"10.0.0.0/8 frobnicate", `sample:1: unknown word "frobnicate"`},
		{"10.0.0.0/33 dev eth0", "sample:1: destination"},
		{"default via nowhere", `sample:1: via "nowhere": not an address`},
		{"10.0.0.0/8 metric x", `metric "x": not a number`},
		{"10.0.0.0/8 dev", `"dev" needs a value`},
	} {
		_, err := ParseTable(strings.NewReader(tt.in), "sample")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseTable(%q) = %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestSystem(t *testing.T) {
	routes, err := System()
	if err != nil {
		t.Fatal(err)
	}
	// Every Linux host has local routes for its loopback addresses.
	found := false
	for _, r := range routes {
		if r.Type == "local" && r.Table == TableLocal && r.Dst.Contains(netip.MustParseAddr("127.0.0.1")) {
			found = true
		}
	}
	if !found {
		t.Errorf("no local route for 127.0.0.1 among %d routes", len(routes))
	}
	r, ok := NewTable(routes).Lookup(netip.MustParseAddr("127.0.0.1"))
	if !ok || r.Type != "local" || r.Iface != "lo" || Source(r, netip.MustParseAddr("127.0.0.1")).String() != "127.0.0.1" {
		t.Errorf("Lookup(127.0.0.1) = %+v", r)
	}
}

// FuzzParseTable: never panics; what parses prints as a route that parses
// back to the same route.
func FuzzParseTable(f *testing.F) {
	for _, s := range strings.Split(sample, "\n") {
		f.Add(s)
	}
	f.Add("0.0.0.0 table 0") // once lost its table on the way back
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := ParseTable(strings.NewReader(s), "fuzz")
		if err != nil {
			return
		}
		for _, r := range rs {
			back, err := ParseTable(strings.NewReader(r.String()), "back")
			if err != nil || len(back) != 1 {
				t.Fatalf("route %q from %q does not parse back: %v", r, s, err)
			}
			if back[0].Dst != r.Dst || back[0].Gateway != r.Gateway || back[0].Type != r.Type || back[0].Metric != r.Metric || back[0].Table != r.Table {
				t.Fatalf("round trip of %q: %+v != %+v", s, back[0], r)
			}
		}
	})
}

const multipath = `203.0.113.0/25 proto static metric 5
	nexthop via 192.0.2.1 dev eth0 weight 1
	nexthop via 198.51.100.1 dev eth1 weight 3 onlink
default via 192.0.2.1 dev eth0 proto static metric 100 nexthop via 192.0.2.1 dev eth0 weight 1 nexthop via 198.51.100.1 dev eth1 weight 1
`

func TestParseMultipath(t *testing.T) {
	rs, err := ParseTable(strings.NewReader(multipath), "mp")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || len(rs[0].Nexthops) != 2 || rs[0].Nexthops[1].Weight != 3 || rs[0].Iface != "eth0" || len(rs[1].Nexthops) != 2 {
		t.Fatalf("%+v", rs)
	}
	// What String writes reads back the same.
	again, err := ParseTable(strings.NewReader(rs[0].String()), "again")
	if err != nil || len(again) != 1 || again[0].String() != rs[0].String() {
		t.Fatalf("round trip of %q: %v %v", rs[0], again, err)
	}
	if _, err := ParseTable(strings.NewReader("\tnexthop via 192.0.2.1 dev eth0\n"), "x"); err == nil {
		t.Fatal("a nexthop with no route above it was accepted")
	}
	if _, err := ParseTable(strings.NewReader("default nexthop via 192.0.2.1 weight 999\n"), "x"); err == nil {
		t.Fatal("a weight of 999 was accepted")
	}
}

func TestRulesDecide(t *testing.T) {
	routes, _ := ParseTable(strings.NewReader("default via 192.0.2.1 dev eth0\n203.0.113.0/24 via 192.0.2.2 dev eth0 table 100\nthrow 203.0.113.128/25 table 100\n"), "t")
	rules, err := ParseRules(strings.NewReader("0: from all lookup local\n10: from all to 198.51.100.0/24 unreachable\n20: not from 192.0.2.0/24 lookup 200\n100: from all lookup 100\n32766: from all lookup main suppress_prefixlength 0\n32767: from all lookup default\n"), "r")
	if err != nil {
		t.Fatal(err)
	}
	tab := NewPolicyTable(routes, rules)
	for _, tc := range []struct{ dst, src, want string }{
		{"203.0.113.5", "", "203.0.113.0/24 via 192.0.2.2 dev eth0 table 100"},
		{"203.0.113.200", "", ""},                                   // thrown out of table 100; main's default suppressed
		{"198.51.100.1", "", "unreachable 198.51.100.1/32 table 0"}, // rule 10 refuses
		{"8.8.8.8", "", ""},                                         // rule 20 (inverted) sends it to table 200, empty; main's default suppressed
		{"8.8.8.8", "192.0.2.9", ""},                                // rule 20 passed over: the same end
	} {
		src := netip.Addr{}
		if tc.src != "" {
			src = netip.MustParseAddr(tc.src)
		}
		r, _, ok := tab.Resolve(netip.MustParseAddr(tc.dst), src)
		if got := map[bool]string{true: r.String(), false: ""}[ok]; got != tc.want {
			t.Errorf("Resolve(%s from %s) = %q, want %q", tc.dst, tc.src, got, tc.want)
		}
	}
}

func FuzzParseRules(f *testing.F) {
	f.Add("0:\tfrom all lookup local\n100: not from 192.0.2.0/24 to 198.51.100.0/24 fwmark 0x1/0xff iif eth0 lookup 100 suppress_prefixlength 0\n")
	f.Fuzz(func(t *testing.T, s string) {
		rules, err := ParseRules(strings.NewReader(s), "fuzz")
		if err != nil {
			return
		}
		for _, r := range rules {
			if r.Priority < 0 || r.Action == "" {
				t.Fatalf("%q gave %+v", s, r)
			}
			if r.From.IsValid() && r.From.Addr().Is6() != r.IPv6 || r.To.IsValid() && r.To.Addr().Is6() != r.IPv6 {
				t.Fatalf("%q: a rule of one family with an address of the other: %+v", s, r)
			}
		}
	})
}
