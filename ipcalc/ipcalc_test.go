package ipcalc

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/netkit-dev/netkit/ipset"
)

func facts(t *testing.T, in string) Facts {
	t.Helper()
	e, err := ipset.ParseEntry(in)
	if err != nil {
		t.Fatalf("ParseEntry(%q): %v", in, err)
	}
	return Describe(in, e)
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		in                                    string
		network, broadcast, first, last       string
		usable, total, netmask, wildcard, typ string
	}{
		{"192.168.0.186/24", "192.168.0.0", "192.168.0.255", "192.168.0.1", "192.168.0.254", "254", "256", "255.255.255.0", "0.0.0.255", "Private-Use"},
		{"192.0.2.0/31", "192.0.2.0", "192.0.2.1", "192.0.2.0", "192.0.2.1", "2", "2", "255.255.255.254", "0.0.0.1", "Documentation (TEST-NET-1)"},
		{"192.0.2.7/32", "192.0.2.7", "192.0.2.7", "192.0.2.7", "192.0.2.7", "1", "1", "255.255.255.255", "0.0.0.0", "Documentation (TEST-NET-1)"},
		{"0.0.0.0/0", "0.0.0.0", "255.255.255.255", "0.0.0.1", "255.255.255.254", "4294967294", "4294967296", "0.0.0.0", "255.255.255.255", "This network"[:0]},
		{"10.0.0.0/255.0.0.0", "10.0.0.0", "10.255.255.255", "10.0.0.1", "10.255.255.254", "16777214", "16777216", "255.0.0.0", "0.255.255.255", "Private-Use"},
		{"2001:db8::/127", "2001:db8::", "", "2001:db8::", "2001:db8::1", "2", "2", "", "", "Documentation"},
		{"2001:db8::1/128", "2001:db8::1", "", "2001:db8::1", "2001:db8::1", "1", "1", "", "", "Documentation"},
		{"2001:db8::/64", "2001:db8::", "", "2001:db8::1", "2001:db8::ffff:ffff:ffff:ffff", "18446744073709551615", "18446744073709551616", "", "", "Documentation"},
		{"::/0", "::", "", "::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "340282366920938463463374607431768211455", "340282366920938463463374607431768211456", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			f := facts(t, tt.in)
			got := []string{text(f.Network), text(f.Broadcast), text(f.First), text(f.Last), f.Usable.String(), f.Total.String(), text(f.Netmask), text(f.Wildcard), f.Type}
			want := []string{tt.network, tt.broadcast, tt.first, tt.last, tt.usable, tt.total, tt.netmask, tt.wildcard, tt.typ}
			if !slices.Equal(got, want) {
				t.Errorf("\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestHostWithPrefix(t *testing.T) {
	f := facts(t, "192.168.0.186/24")
	if text(f.Address) != "192.168.0.186" || text(f.Network) != "192.168.0.0" || *f.PrefixLength != 24 {
		t.Errorf("host and network: %+v", f)
	}
	if f.Integer != "3232235706" || f.Hex != "0xC0A800BA" || f.Binary != "11000000.10101000.00000000|10111010" {
		t.Errorf("number forms of the host: %s %s %s", f.Integer, f.Hex, f.Binary)
	}
	if f.ReverseName != "186.0.168.192.in-addr.arpa." || f.ReverseZone != "0.168.192.in-addr.arpa." || f.Class != "C" || !f.Private || f.Global {
		t.Errorf("reverse and class: %+v", f)
	}
}

func TestBinary(t *testing.T) {
	for _, tt := range []struct {
		in   string
		bits int
		want string
	}{
		{"192.0.2.1", 26, "11000000.00000000.00000010.00|000001"},
		{"0.0.0.0", 0, "|00000000.00000000.00000000.00000000"},
		{"255.255.255.255", 32, "11111111.11111111.11111111.11111111|"},
		{"8000::", 1, "1|000000000000000:" + strings.Repeat("0000000000000000:", 6) + "0000000000000000"},
	} {
		if got := Binary(netip.MustParseAddr(tt.in), tt.bits); got != tt.want {
			t.Errorf("Binary(%s, %d) = %s, want %s", tt.in, tt.bits, got, tt.want)
		}
	}
}

func TestReverseZones(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"192.0.2.0/24", []string{"2.0.192.in-addr.arpa."}},
		{"192.0.2.64/26", []string{"64/26.2.0.192.in-addr.arpa."}},
		{"192.0.2.0/23", []string{"2.0.192.in-addr.arpa.", "3.0.192.in-addr.arpa."}},
		{"10.0.0.0/8", []string{"10.in-addr.arpa."}},
		{"0.0.0.0/0", []string{"in-addr.arpa."}},
		{"2001:db8::/32", []string{"8.b.d.0.1.0.0.2.ip6.arpa."}},
		{"2001:db8::/63", []string{"0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", "1.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."}},
		// A /33 spans the eight /36 zones whose ninth nibble is 8 to f.
		{"2001:db8:8000::/33", []string{"8.8.b.d.0.1.0.0.2.ip6.arpa.", "9.8.b.d.0.1.0.0.2.ip6.arpa.", "a.8.b.d.0.1.0.0.2.ip6.arpa.", "b.8.b.d.0.1.0.0.2.ip6.arpa.", "c.8.b.d.0.1.0.0.2.ip6.arpa.", "d.8.b.d.0.1.0.0.2.ip6.arpa.", "e.8.b.d.0.1.0.0.2.ip6.arpa.", "f.8.b.d.0.1.0.0.2.ip6.arpa."}},
	} {
		if got := ReverseZones(netip.MustParsePrefix(tt.in)); !slices.Equal(got, tt.want) {
			t.Errorf("ReverseZones(%s) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if got := ReverseName(netip.MustParseAddr("2001:db8::1")); got != "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa." {
		t.Errorf("ReverseName = %s", got)
	}
}

func TestClassification(t *testing.T) {
	for _, tt := range []struct {
		in, typ, rfc string
		private      bool
		global       bool
	}{
		{"10.1.2.3", "Private-Use", "RFC1918", true, false},
		{"100.64.0.1", "Shared Address Space", "RFC6598", true, false},
		{"127.0.0.1", "Loopback", "RFC1122", true, false},
		{"192.0.0.9", "Port Control Protocol Anycast", "RFC7723", false, true},
		{"192.0.0.1", "IPv4 Service Continuity Prefix", "RFC7335", true, false},
		{"8.8.8.8", "", "", false, true},
		{"224.0.0.1", "Multicast", "RFC5771", false, false},
		{"255.255.255.255", "Limited Broadcast", "RFC919", true, false},
		{"::1", "Loopback Address", "RFC4291", true, false},
		{"fd00::1", "Unique-Local", "RFC4193", true, false},
		{"fe80::1%eth0", "Link-Local Unicast", "RFC4291", true, false},
		{"2001:4860::1", "", "", false, true},
		{"2001:db8::1", "Documentation", "RFC3849", true, false},
		{"3fff::1", "Documentation", "RFC9637", true, false},
		{"ff02::1", "Multicast", "RFC4291", false, false},
		{"ff0e::1", "Multicast", "RFC4291", false, true},
		{"4000::1", "Reserved by IETF", "", false, false},
		// A mapped address is classified by the IPv4 address inside.
		{"::ffff:10.0.0.1", "IPv4-mapped Address: Private-Use", "RFC1918", true, false},
		{"::ffff:8.8.8.8", "IPv4-mapped Address", "", false, true},
		// Teredo and 6to4 say N/A for global reachability: neither.
		{"2002:c000:204::1", "6to4", "RFC3056", false, false},
	} {
		f := facts(t, tt.in)
		if f.Type != tt.typ || f.RFC != tt.rfc || f.Private != tt.private || f.Global != tt.global {
			t.Errorf("%s: type %q rfc %q private %v global %v; want %q %q %v %v", tt.in, f.Type, f.RFC, f.Private, f.Global, tt.typ, tt.rfc, tt.private, tt.global)
		}
	}
}

func TestEmbedded(t *testing.T) {
	for _, tt := range []struct {
		in, how, addr string
		port          uint16
		server        string
	}{
		{"::ffff:192.0.2.1", "ipv4-mapped", "192.0.2.1", 0, ""},
		{"64:ff9b::c000:221", "nat64", "192.0.2.33", 0, ""},
		{"2002:c000:204::1", "6to4", "192.0.2.4", 0, ""},
		// RFC 4380's example: server 65.54.227.120, client 192.0.2.45:40000.
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", "teredo", "192.0.2.45", 40000, "65.54.227.120"},
	} {
		e := EmbeddedIPv4(netip.MustParseAddr(tt.in))
		if e == nil || e.How != tt.how || text(e.Address) != tt.addr || e.Port != tt.port || text(e.TeredoServer) != tt.server {
			t.Errorf("EmbeddedIPv4(%s) = %+v", tt.in, e)
		}
	}
	if EmbeddedIPv4(netip.MustParseAddr("2001:db8::1")) != nil || EmbeddedIPv4(netip.MustParseAddr("192.0.2.1")) != nil {
		t.Error("embedded address where there is none")
	}
	if got := facts(t, "::ffff:192.0.2.1").Address.String(); got != "::ffff:192.0.2.1" {
		t.Errorf("mapped address text %q, want mixed notation", got)
	}
}

func TestScopeAndClass(t *testing.T) {
	for in, want := range map[string]string{"::1": "host", "fe80::1": "link", "fec0::1": "site", "2001:db8::1": "global", "ff02::1": "link-local", "ff05::2": "site-local", "ff0e::1": "global", "ff01::1": "interface-local"} {
		if got := Scope(netip.MustParseAddr(in)); got != want {
			t.Errorf("Scope(%s) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"10.0.0.1": "A", "127.0.0.1": "A", "128.0.0.1": "B", "191.255.0.1": "B", "192.0.2.1": "C", "224.0.0.1": "D", "240.0.0.1": "E"} {
		if got := Class(netip.MustParseAddr(in)); got != want {
			t.Errorf("Class(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestZoneKept(t *testing.T) {
	f := facts(t, "fe80::1%eth0")
	if f.Address.String() != "fe80::1%eth0" || f.Scope != "link" {
		t.Errorf("zone: %+v", f)
	}
}

func TestRangeFacts(t *testing.T) {
	f := facts(t, "192.0.2.10-192.0.2.20")
	if f.Total.String() != "11" || f.First.String() != "192.0.2.10" || len(f.Prefixes) != 4 || f.Type != "Documentation (TEST-NET-1)" {
		t.Errorf("range facts %+v", f)
	}
}

func TestSplit(t *testing.T) {
	seq, err := Subnets(netip.MustParsePrefix("192.0.2.0/24"), 26)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for p := range seq {
		got = append(got, p.String())
	}
	if strings.Join(got, " ") != "192.0.2.0/26 192.0.2.64/26 192.0.2.128/26 192.0.2.192/26" {
		t.Errorf("Subnets: %v", got)
	}
	if _, err := Subnets(netip.MustParsePrefix("192.0.2.0/24"), 23); err == nil {
		t.Error("split into a shorter prefix succeeded")
	}
	ps, err := SplitCount(netip.MustParsePrefix("10.0.0.0/8"), 3)
	if err != nil || len(ps) != 3 || ps[2].String() != "10.128.0.0/10" {
		t.Errorf("SplitCount = %v, %v", ps, err)
	}
	allocs, free, err := SplitHosts(netip.MustParsePrefix("192.0.2.0/24"), []int{20, 100, 2, 50, 500})
	if err != nil {
		t.Fatal(err)
	}
	// Largest first: 100 -> .0/25, 50 -> .128/26, 20 -> .192/27, 2 -> .224/31; 500 does not fit.
	want := []string{"192.0.2.192/27", "192.0.2.0/25", "192.0.2.224/31", "192.0.2.128/26", "invalid Prefix"}
	for i, a := range allocs {
		if a.Prefix.String() != want[i] {
			t.Errorf("VLSM %d hosts: %s, want %s", a.Hosts, a.Prefix, want[i])
		}
	}
	if fmt.Sprint(free) != "[192.0.2.226/31 192.0.2.228/30 192.0.2.232/29 192.0.2.240/28]" {
		t.Errorf("free space %v", free)
	}
}

func TestNthSupernet(t *testing.T) {
	p := netip.MustParsePrefix("192.0.2.0/24")
	for n, want := range map[int64]string{0: "192.0.2.0", 5: "192.0.2.5", -1: "192.0.2.255", -256: "192.0.2.0"} {
		a, err := Nth(p, big.NewInt(n))
		if err != nil || a.String() != want {
			t.Errorf("Nth(%d) = %v, %v; want %s", n, a, err, want)
		}
	}
	for _, n := range []int64{256, -257} {
		if _, err := Nth(p, big.NewInt(n)); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("Nth(%d): %v", n, err)
		}
	}
	if a, _ := Nth(netip.MustParsePrefix("::/0"), big.NewInt(-1)); a.String() != "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" {
		t.Errorf("Nth(::/0, -1) = %s", a)
	}
	s, err := SupernetOf(netip.MustParsePrefix("192.0.2.0/25"), netip.MustParsePrefix("192.0.3.0/24"))
	if err != nil || s.String() != "192.0.2.0/23" {
		t.Errorf("SupernetOf = %v, %v", s, err)
	}
	if _, err := SupernetOf(netip.MustParsePrefix("192.0.2.0/25"), netip.MustParsePrefix("::/0")); err == nil {
		t.Error("mixed families")
	}
	for range 100 {
		a, err := Random(netip.MustParsePrefix("198.51.100.0/30"))
		if err != nil || !netip.MustParsePrefix("198.51.100.0/30").Contains(a) {
			t.Fatalf("Random = %v, %v", a, err)
		}
	}
}

// FuzzDescribe: every entry that parses can be described, and the facts
// hang together.
func FuzzDescribe(f *testing.F) {
	for _, s := range []string{"192.168.0.186/24", "::/0", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "192.0.2.1-192.0.2.9", "fe80::1%eth0", "0.0.0.0/0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ipset.ParseEntry(s)
		if err != nil {
			return
		}
		fa := Describe(s, e)
		if !fa.First.IsValid() || !fa.Last.IsValid() || fa.Last.Less(fa.First) {
			t.Fatalf("%q: first %v last %v", s, fa.First, fa.Last)
		}
		total, usable := fa.Total.Int, fa.Usable.Int
		if total == nil || usable == nil || usable.Sign() <= 0 || usable.Cmp(total) > 0 {
			t.Fatalf("%q: usable %s of %s", s, fa.Usable, fa.Total)
		}
		if fa.Private && fa.Global {
			t.Fatalf("%q is both private and global", s)
		}
	})
}

// text is an address as ipcalc's JSON writes it: "" when there is none.
func text(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func TestJSONForm(t *testing.T) {
	b, err := json.Marshal(facts(t, "::/0"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"total":"340282366920938463463374607431768211456"`, `"first":"::1"`, `"network":"::"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
	for _, absent := range []string{`"netmask"`, `"broadcast"`, `"address"`} {
		if strings.Contains(string(b), absent) {
			t.Errorf("JSON of a prefix has %s: %s", absent, b)
		}
	}
	var back Facts
	if err := json.Unmarshal(b, &back); err != nil || back.Total.Cmp(facts(t, "::/0").Total.Int) != 0 || back.First != netip.MustParseAddr("::1") {
		t.Errorf("JSON does not read back: %+v, %v", back, err)
	}
}
