package route

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/netkit-dev/netkit/internal/testutil"
)

// TestAgainstIPRouteGet builds a host in a namespace with two links and a
// few routes, and checks that Lookup picks the route that `ip route get`
// reports for each destination.
func TestAgainstIPRouteGet(t *testing.T) {
	h, r1 := testutil.NewNetns(t), testutil.NewNetns(t)
	r2 := testutil.NewNetns(t)
	if1, _ := testutil.Veth(t, h, netip.MustParsePrefix("192.0.2.10/24"), r1, netip.MustParsePrefix("192.0.2.1/24"))
	if2, _ := testutil.Veth(t, h, netip.MustParsePrefix("198.51.100.10/24"), r2, netip.MustParsePrefix("198.51.100.1/24"))
	h.Run(t, "ip", "route", "add", "default", "via", "192.0.2.1", "dev", if1)
	h.Run(t, "ip", "route", "add", "203.0.113.0/24", "via", "198.51.100.1", "dev", if2)
	h.Run(t, "ip", "route", "add", "203.0.113.128/25", "via", "192.0.2.1", "dev", if1, "metric", "20")
	h.Run(t, "ip", "route", "add", "203.0.113.128/25", "via", "198.51.100.1", "dev", if2, "metric", "10")
	h.Run(t, "ip", "route", "add", "unreachable", "192.0.2.128/25")
	h.Run(t, "ip", "-6", "addr", "add", "2001:db8:1::10/64", "dev", if1, "nodad")
	h.Run(t, "ip", "-6", "route", "add", "default", "via", "2001:db8:1::1", "dev", if1)
	h.Run(t, "ip", "addr", "add", "169.254.5.5/16", "dev", if1) // link-local: its own source

	var routes []Route
	if err := h.Do(func() (err error) { routes, err = System(); return err }); err != nil {
		t.Fatal(err)
	}
	tab := NewTable(routes)
	for _, dst := range []string{"192.0.2.77", "192.0.2.1", "192.0.2.10", "198.51.100.99", "203.0.113.5", "203.0.113.200", "8.8.8.8", "127.0.0.1", "2001:db8:1::99", "2001:db8:ffff::1", "192.0.2.200", "169.254.7.7"} {
		want := h.Command("ip", "route", "get", dst)
		out, err := want.CombinedOutput()
		got, ok := tab.Lookup(netip.MustParseAddr(dst))
		if err != nil {
			// The kernel refuses (unreachable): so must the route found.
			if !ok || got.Type != "unreachable" {
				t.Errorf("%s: ip route get says %q; netkit found %v", dst, strings.TrimSpace(string(out)), got)
			}
			continue
		}
		f := strings.Fields(string(out))
		field := func(k string) string {
			for i := 0; i+1 < len(f); i++ {
				if f[i] == k {
					return f[i+1]
				}
			}
			return ""
		}
		if !ok {
			t.Errorf("%s: ip route get says %q; netkit found no route", dst, out)
			continue
		}
		gw := ""
		if got.Gateway.IsValid() {
			gw = got.Gateway.String()
		}
		var src string
		h.Do(func() error { src = Source(got, netip.MustParseAddr(dst)).String(); return nil })
		dev := got.Iface
		if got.Type == "local" {
			dev = "lo" // packets to the host itself go over loopback
		}
		if field("dev") != dev || field("via") != gw || field("src") != src || (f[0] == "local") != (got.Type == "local") {
			t.Errorf("%s: ip route get says %q; netkit: %s (src %s)", dst, strings.TrimSpace(string(out)), got, src)
		}
	}
}

// TestPolicyAndMultipathAgainstIPRouteGet adds rules and a multipath route
// in a namespace and checks that Resolve picks what `ip route get` says:
// the table a rule names, a rule that refuses, suppress_prefixlength, a
// rule by source, and the hops of a multipath route.
func TestPolicyAndMultipathAgainstIPRouteGet(t *testing.T) {
	h, r1 := testutil.NewNetns(t), testutil.NewNetns(t)
	r2 := testutil.NewNetns(t)
	if1, _ := testutil.Veth(t, h, netip.MustParsePrefix("192.0.2.10/24"), r1, netip.MustParsePrefix("192.0.2.1/24"))
	if2, _ := testutil.Veth(t, h, netip.MustParsePrefix("198.51.100.10/24"), r2, netip.MustParsePrefix("198.51.100.1/24"))
	h.Run(t, "ip", "route", "add", "default", "via", "192.0.2.1", "dev", if1)
	h.Run(t, "ip", "route", "add", "203.0.113.0/25", "nexthop", "via", "192.0.2.1", "dev", if1, "weight", "1", "nexthop", "via", "198.51.100.1", "dev", if2, "weight", "3")
	h.Run(t, "ip", "route", "add", "203.0.113.128/25", "via", "198.51.100.1", "dev", if2, "table", "100")
	h.Run(t, "ip", "route", "add", "default", "via", "198.51.100.1", "dev", if2, "table", "200")
	h.Run(t, "ip", "rule", "add", "to", "203.0.113.128/25", "lookup", "100", "pref", "100")
	h.Run(t, "ip", "rule", "add", "from", "198.51.100.10", "lookup", "200", "pref", "200")
	h.Run(t, "ip", "rule", "add", "to", "192.0.2.128/25", "prohibit", "pref", "300")
	h.Run(t, "ip", "rule", "add", "lookup", "main", "suppress_prefixlength", "0", "pref", "400")

	var routes []Route
	var rules []Rule
	if err := h.Do(func() (err error) {
		if routes, err = System(); err != nil {
			return err
		}
		rules, err = SystemRules()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// The text forms read back the same way.
	textRules, err := ParseRules(strings.NewReader(h.Run(t, "ip", "rule")), "ip rule")
	if err != nil {
		t.Fatal(err)
	}
	textRoutes, err := ParseTable(strings.NewReader(h.Run(t, "ip", "route", "show", "table", "all")), "ip route")
	if err != nil {
		t.Fatal(err)
	}
	for name, tab := range map[string]*Table{"netlink": NewPolicyTable(routes, rules), "text": NewPolicyTable(textRoutes, textRules)} {
		for _, tc := range []struct{ dst, src string }{
			{"203.0.113.200", ""},        // rule 100: table 100
			{"203.0.113.5", ""},          // main: multipath
			{"8.8.8.8", "198.51.100.10"}, // rule 200 by source: table 200
			{"8.8.8.8", ""},              // main's default
			{"192.0.2.200", ""},          // rule 300: prohibit
			{"192.0.2.20", ""},           // local link
		} {
			args := []string{"route", "get", tc.dst}
			if tc.src != "" {
				args = append(args, "from", tc.src)
			}
			out, err := h.Command("ip", args...).CombinedOutput()
			src := netip.Addr{}
			if tc.src != "" {
				src = netip.MustParseAddr(tc.src)
			}
			got, rule, ok := tab.Resolve(netip.MustParseAddr(tc.dst), src)
			if err != nil {
				if !ok || got.Type != KindProhibit {
					t.Errorf("%s %v: ip route get fails (%q); netkit found %v by %v", name, tc, strings.TrimSpace(string(out)), got, rule)
				}
				continue
			}
			f := strings.Fields(string(out))
			field := func(k string) string {
				for i := 0; i+1 < len(f); i++ {
					if f[i] == k {
						return f[i+1]
					}
				}
				return ""
			}
			if !ok {
				t.Errorf("%s %v: ip route get says %q; netkit found no route", name, tc, out)
				continue
			}
			if len(got.Nexthops) > 0 {
				// The kernel picked one hop by the flow's hash: it must be one
				// of netkit's.
				found := false
				for _, n := range got.Nexthops {
					found = found || n.Gateway.String() == field("via") && n.Iface == field("dev")
				}
				if !found || len(got.Nexthops) != 2 || got.Nexthops[1].Weight != 3 {
					t.Errorf("%s %v: ip route get says %q; netkit's hops %v", name, tc, strings.TrimSpace(string(out)), got.Nexthops)
				}
				continue
			}
			gw := ""
			if got.Gateway.IsValid() {
				gw = got.Gateway.String()
			}
			if field("via") != gw || field("dev") != got.Iface || field("table") != "" && field("table") != TableName(got.Table) {
				t.Errorf("%s %v: ip route get says %q; netkit: %s by rule %v", name, tc, strings.TrimSpace(string(out)), got, rule)
			}
		}
	}
}

// TestLinkLocalSource: a packet to a link-local address leaves from the
// interface's link-local address, as `ip route get` says, not from its
// global one.
func TestLinkLocalSource(t *testing.T) {
	h, r1 := testutil.NewNetns(t), testutil.NewNetns(t)
	if1, _ := testutil.Veth(t, h, netip.MustParsePrefix("192.0.2.10/24"), r1, netip.MustParsePrefix("192.0.2.1/24"))
	h.Run(t, "ip", "-6", "addr", "flush", "dev", if1, "scope", "link")
	h.Run(t, "ip", "-6", "addr", "add", "2001:db8:1::10/64", "dev", if1, "nodad")
	h.Run(t, "ip", "-6", "addr", "add", "fe80::10/64", "dev", if1, "nodad")
	out := h.Run(t, "ip", "-6", "route", "get", "fe80::99", "dev", if1)
	f := strings.Fields(out)
	want := ""
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "src" {
			want = f[i+1]
		}
	}
	var got netip.Addr
	h.Do(func() error {
		got = Source(Route{Dst: netip.MustParsePrefix("fe80::/64"), Iface: if1, Type: KindUnicast}, netip.MustParseAddr("fe80::99"))
		return nil
	})
	if want != "fe80::10" || got.String() != want {
		t.Fatalf("ip route get says src %q (%q); netkit says %s", want, strings.TrimSpace(out), got)
	}
}
