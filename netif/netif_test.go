package netif

import (
	"net/netip"
	"runtime"
	"testing"
)

func TestListHasLoopback(t *testing.T) {
	ifs, err := List()
	if err != nil {
		t.Fatal(err)
	}
	var lo *Interface
	for i := range ifs {
		if ifs[i].Name == "lo" {
			lo = &ifs[i]
		}
		if i > 0 && ifs[i].Index <= ifs[i-1].Index {
			t.Errorf("interfaces not ordered by index: %d after %d", ifs[i].Index, ifs[i-1].Index)
		}
	}
	if lo == nil {
		t.Skip("no interface named lo on this system")
	}
	want := netip.MustParsePrefix("127.0.0.1/8")
	found := false
	for _, p := range lo.Addrs {
		found = found || p == want
	}
	if !found {
		t.Errorf("lo addresses %v lack %v", lo.Addrs, want)
	}
	names := lo.FlagNames()
	if len(names) == 0 || names[0] != "UP" {
		t.Errorf("lo flags %v, want UP first", names)
	}
	by, err := ByName("lo")
	if err != nil || by.Index != lo.Index {
		t.Errorf("ByName(lo) = %v, %v", by.Index, err)
	}
	if _, err := ByName("no-such-if0"); err == nil {
		t.Error("ByName of a missing interface succeeded")
	}
}

func TestScopeFamily(t *testing.T) {
	tests := []struct {
		in, scope, family string
	}{
		{"127.0.0.1", "host", "inet"},
		{"::1", "host", "inet6"},
		{"fe80::1", "link", "inet6"},
		{"169.254.1.1", "link", "inet"},
		{"192.0.2.1", "global", "inet"},
		{"2001:db8::1", "global", "inet6"},
	}
	for _, tt := range tests {
		a := netip.MustParseAddr(tt.in)
		if got := Scope(a); got != tt.scope {
			t.Errorf("Scope(%s) = %q, want %q", tt.in, got, tt.scope)
		}
		if got := Family(a); got != tt.family {
			t.Errorf("Family(%s) = %q, want %q", tt.in, got, tt.family)
		}
	}
}

// TestLinksAgreeWithList: the netlink dump and net.Interfaces see the same
// interfaces, with the same names, flags and MTUs, and loopback's
// counters are those of sysfs (they only grow, so the dump's are at most
// sysfs's read after it).
func TestLinksAgreeWithList(t *testing.T) {
	links, err := Links()
	if err != nil {
		t.Fatal(err)
	}
	ifs, err := List()
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != len(ifs) {
		t.Fatalf("Links has %d interfaces, List %d", len(links), len(ifs))
	}
	for i, l := range links {
		it := ifs[i]
		if l.Index != it.Index || l.Name != it.Name || l.Flags != it.Flags || l.MTU != it.MTU || l.HardwareAddr.String() != it.HardwareAddr.String() || l.OperState != it.OperState {
			t.Errorf("Links %+v\n List %+v", l.Interface, it)
		}
		if runtime.GOOS != "linux" {
			continue
		}
		c, err := ReadCounters(l.Name)
		if err != nil {
			t.Fatal(err)
		}
		if l.Counters.RxBytes > c.RxBytes || l.Counters.TxPackets > c.TxPackets || l.Counters.RxBytes == 0 && c.RxBytes > 1<<20 {
			t.Errorf("%s: netlink counters %+v, sysfs after them %+v", l.Name, l.Counters, c)
		}
	}
}
