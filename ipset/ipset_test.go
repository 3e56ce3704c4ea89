package ipset

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseEntry(t *testing.T) {
	tests := []struct {
		in      string
		kind    Kind
		rng     string
		wantErr string
	}{
		{in: "192.0.2.1", kind: KindAddr, rng: "192.0.2.1-192.0.2.1"},
		{in: " 192.0.2.0/24 ", kind: KindPrefix, rng: "192.0.2.0-192.0.2.255"},
		{in: "192.168.0.186/24", kind: KindPrefix, rng: "192.168.0.0-192.168.0.255"},
		{in: "192.0.2.0/255.255.255.0", kind: KindPrefix, rng: "192.0.2.0-192.0.2.255"},
		{in: "10.0.0.0/255.0.0.0", kind: KindPrefix, rng: "10.0.0.0-10.255.255.255"},
		{in: "0.0.0.0/0.0.0.0", kind: KindPrefix, rng: "0.0.0.0-255.255.255.255"},
		{in: "192.0.2.10-192.0.2.20", kind: KindRange, rng: "192.0.2.10-192.0.2.20"},
		{in: "2001:db8::/127", kind: KindPrefix, rng: "2001:db8::-2001:db8::1"},
		{in: "::/0", kind: KindPrefix, rng: "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{in: "fe80::1%eth0", kind: KindAddr, rng: "fe80::1-fe80::1"},
		{in: "010.1.1.1", wantErr: "leading zeros"},
		{in: "10.1.1.01/8", wantErr: "leading zeros"},
		{in: "192.0.2.0/255.255.0.255", wantErr: "not contiguous"},
		{in: "192.0.2.0/255.0.255.0", wantErr: "not contiguous"},
		{in: "192.0.2.0/33", wantErr: "IPv4 prefix lengths are 0-32"},
		{in: "2001:db8::/129", wantErr: "IPv6 prefix lengths are 0-128"},
		{in: "192.0.2.0/08", wantErr: "without leading zeros"},
		{in: "192.0.2.0/", wantErr: "without leading zeros"},
		{in: "192.0.2.0/-1", wantErr: "without leading zeros"},
		{in: "fe80::1%eth0/64", wantErr: "zones belong on addresses, not prefixes"},
		{in: "2001:db8::/ffff::", wantErr: "netmasks are for IPv4"},
		{in: "192.0.2.9-192.0.2.1", wantErr: "must not end before it starts"},
		{in: "192.0.2.1-::1", wantErr: "may not mix IPv4 and IPv6"},
		{in: "1.2.3", wantErr: "is not an IP address"},
		{in: "", wantErr: "empty"},
		{in: "hello", wantErr: "is not an IP address"},
		// Found by FuzzParseEntry: netip reads this as :: with zone "000000/".
		{in: "::%000000/", wantErr: "zones belong on addresses, not prefixes"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e, err := ParseEntry(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.in)) {
					t.Fatalf("ParseEntry(%q) = %v, want an error quoting it with %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || e.Kind != tt.kind || e.Range.String() != tt.rng {
				t.Fatalf("ParseEntry(%q) = %+v, %v; want kind %d range %s", tt.in, e, err, tt.kind, tt.rng)
			}
			b, err := ParseEntryBytes([]byte(tt.in))
			if err != nil || b != e {
				t.Errorf("ParseEntryBytes differs: %+v, %v", b, err)
			}
		})
	}
}

func TestParseEntryBytesAllocs(t *testing.T) {
	lines := [][]byte{[]byte("192.0.2.0/24"), []byte("2001:db8::/48"), []byte("10.0.0.1-10.0.0.9"), []byte("198.51.100.7")}
	n := testing.AllocsPerRun(1000, func() {
		for _, l := range lines {
			if _, err := ParseEntryBytes(l); err != nil {
				panic(err)
			}
		}
	})
	if n != 0 {
		t.Errorf("ParseEntryBytes allocates %.1f times per 4 lines, want 0", n)
	}
}

func TestRangePrefixes(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"192.0.2.0-192.0.2.255", "192.0.2.0/24"},
		{"192.0.2.1-192.0.2.6", "192.0.2.1/32 192.0.2.2/31 192.0.2.4/31 192.0.2.6/32"},
		{"0.0.0.0-255.255.255.255", "0.0.0.0/0"},
		{"255.255.255.255-255.255.255.255", "255.255.255.255/32"},
		{"10.0.0.0-10.0.1.0", "10.0.0.0/24 10.0.1.0/32"},
		{"::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/0"},
		{"2001:db8::-2001:db8::ffff:ffff:ffff:ffff", "2001:db8::/64"},
		{"::1-::2", "::1/128 ::2/128"},
	}
	for _, tt := range tests {
		var got []string
		for _, p := range MustParseRange(tt.in).Prefixes() {
			got = append(got, p.String())
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%s: got %v, want %s", tt.in, got, tt.want)
		}
	}
}

// model is a brute-force set over a small universe: the 64 addresses
// 10.0.0.0-10.0.0.63 and the 64 addresses 2001:db8::-2001:db8::3f.
type model [128]bool

func addrOf(i int) netip.Addr {
	if i < 64 {
		return netip.AddrFrom4([4]byte{10, 0, 0, byte(i)})
	}
	b := netip.MustParseAddr("2001:db8::").As16()
	b[15] = byte(i - 64)
	return netip.AddrFrom16(b)
}

func randomSet(r *rand.Rand) (Set, model) {
	var b Builder
	var m model
	for range r.IntN(6) {
		fam := r.IntN(2) * 64
		lo := r.IntN(64)
		hi := lo + r.IntN(64-lo)
		if r.IntN(3) == 0 {
			b.RemoveRange(RangeFrom(addrOf(fam+lo), addrOf(fam+hi)))
			for i := lo; i <= hi; i++ {
				m[fam+i] = false
			}
			continue
		}
		b.AddRange(RangeFrom(addrOf(fam+lo), addrOf(fam+hi)))
		for i := lo; i <= hi; i++ {
			m[fam+i] = true
		}
	}
	return b.Set(), m
}

func checkModel(t *testing.T, what string, s Set, m model) {
	t.Helper()
	for i := range m {
		if s.Contains(addrOf(i)) != m[i] {
			t.Fatalf("%s: Contains(%s) = %v, model says %v; set %v", what, addrOf(i), !m[i], m[i], s.Ranges())
		}
	}
	// Normal form: ranges sorted, apart, and the prefixes cover exactly.
	rs := s.Ranges()
	for i := 1; i < len(rs); i++ {
		if rs[i].from.Is4() == rs[i-1].from.Is4() && !rs[i-1].to.Next().Less(rs[i].from) {
			t.Fatalf("%s: ranges %v and %v touch or overlap", what, rs[i-1], rs[i])
		}
	}
	var b Builder
	for _, p := range s.Prefixes() {
		b.AddPrefix(p)
	}
	if !b.Set().Equal(s) {
		t.Fatalf("%s: prefixes %v do not cover the set exactly", what, s.Prefixes())
	}
}

func TestSetAlgebraAgainstModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		a, ma := randomSet(r)
		b, mb := randomSet(r)
		checkModel(t, fmt.Sprintf("#%d a", i), a, ma)
		var u, in, d model
		for k := range ma {
			u[k] = ma[k] || mb[k]
			in[k] = ma[k] && mb[k]
			d[k] = ma[k] && !mb[k]
		}
		checkModel(t, fmt.Sprintf("#%d union", i), a.Union(b), u)
		checkModel(t, fmt.Sprintf("#%d intersect", i), a.Intersect(b), in)
		checkModel(t, fmt.Sprintf("#%d difference", i), a.Difference(b), d)
		var bb Builder
		bb.AddSet(a)
		bb.RemoveSet(b)
		checkModel(t, fmt.Sprintf("#%d builder remove", i), bb.Set(), d)
	}
}

func TestAggregator(t *testing.T) {
	var got []string
	g := Aggregator{Emit: func(r Range) { got = append(got, r.String()) }}
	for _, s := range []string{"10.0.0.0-10.0.0.9", "::1-::1", "10.0.0.10-10.0.0.20", "10.0.0.15-10.0.0.16", "::2-::5", "10.0.0.30-10.0.0.30", "::7-::7"} {
		if err := g.Add(MustParseRange(s)); err != nil {
			t.Fatal(err)
		}
	}
	g.Flush()
	want := []string{"10.0.0.0-10.0.0.20", "::1-::5", "10.0.0.30-10.0.0.30", "::7-::7"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if err := g.Add(MustParseRange("10.0.0.5-10.0.0.6")); err != nil {
		t.Fatal(err)
	}
	if err := g.Add(MustParseRange("10.0.0.1-10.0.0.1")); err != ErrUnsorted {
		t.Errorf("unsorted input: %v, want ErrUnsorted", err)
	}
}

func TestCount(t *testing.T) {
	var b Builder
	b.AddPrefix(netip.MustParsePrefix("0.0.0.0/0"))
	b.AddPrefix(netip.MustParsePrefix("::/0"))
	v4, v6 := b.Set().Count()
	if v4.String() != "4294967296" || v6.String() != "340282366920938463463374607431768211456" {
		t.Errorf("Count = %s, %s", v4, v6)
	}
}

func TestSetEdges(t *testing.T) {
	var b Builder
	b.AddRange(MustParseRange("255.255.255.250-255.255.255.255"))
	b.AddRange(MustParseRange("255.255.255.240-255.255.255.251"))
	b.Add(netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))
	b.Add(netip.MustParseAddr("fe80::1%eth0"))
	s := b.Set()
	if got := fmt.Sprint(s.Ranges()); got != "[255.255.255.240-255.255.255.255 fe80::1-fe80::1 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]" {
		t.Errorf("ranges %s", got)
	}
	if !s.Contains(netip.MustParseAddr("fe80::1%eth0")) || s.Contains(netip.MustParseAddr("::ffff:255.255.255.255")) {
		t.Error("zones must not matter, and mapped addresses are IPv6")
	}
	if !s.ContainsPrefix(netip.MustParsePrefix("255.255.255.248/29")) || s.ContainsPrefix(netip.MustParsePrefix("255.255.255.0/24")) {
		t.Error("ContainsPrefix")
	}
}

// FuzzParseEntry cross-checks ParseEntry against net/netip.
func FuzzParseEntry(f *testing.F) {
	for _, s := range []string{"192.0.2.0/24", "10.0.0.1-10.0.0.9", "::/0", "fe80::1%eth0", "1.2.3.4/255.255.255.0", "010.1.1.1", "1.1.1.1/255.0.255.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseEntry(s)
		ts := strings.TrimSpace(s)
		if p, perr := netip.ParsePrefix(ts); perr == nil {
			if err != nil || e.Kind != KindPrefix || e.Prefix != p {
				t.Fatalf("netip parses prefix %q as %v; ParseEntry: %+v, %v", ts, p, e, err)
			}
		}
		// netip lets a zone hold any character; ParseEntry reads '/' and
		// '-' as the prefix and range marks first, so such zones are
		// rejected (see the table test for "::%000000/").
		if a, aerr := netip.ParseAddr(ts); aerr == nil && !strings.ContainsAny(a.Zone(), "/-") {
			if err != nil || e.Kind != KindAddr || e.Addr != a {
				t.Fatalf("netip parses address %q as %v; ParseEntry: %+v, %v", ts, a, e, err)
			}
		}
		if err != nil {
			return
		}
		if !e.Range.IsValid() || e.Range.to.Less(e.Range.from) {
			t.Fatalf("ParseEntry(%q) gave range %v", s, e.Range)
		}
		// The range's prefixes cover exactly the range.
		ps := e.Range.Prefixes()
		if ps[0].Addr() != e.Range.from || RangeOfPrefix(ps[len(ps)-1]).to != e.Range.to {
			t.Fatalf("prefixes %v do not span %v", ps, e.Range)
		}
	})
}

func TestReadList(t *testing.T) {
	in := "# a list\n10.0.0.0/25\n10.0.0.128/25 # the other half\n\n  192.0.2.1  \r\n2001:db8::-2001:db8::3\n10.0.1.0"
	var b Builder
	if err := b.ReadList(strings.NewReader(in), "list.txt", nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	for p := range b.Finish().All() {
		got = append(got, p.String())
	}
	if want := "10.0.0.0/24 10.0.1.0/32 192.0.2.1/32 2001:db8::/126"; strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s", got, want)
	}
	err := b.ReadList(strings.NewReader("10.0.0.1\n010.0.0.1\n"), "bad.txt", nil)
	if err == nil || err.Error() != `bad.txt:2: invalid entry "010.0.0.1": IPv4 octets may not have leading zeros (010 is octal to some parsers, decimal to others)` {
		t.Errorf("bad line: %v", err)
	}
	var skipped []int
	err = b.ReadList(strings.NewReader("x\n10.0.0.1\nfe80::1%eth0\n"), "-", func(le *LineError) { skipped = append(skipped, le.Line) })
	if err != nil || !slices.Equal(skipped, []int{1, 3}) {
		t.Errorf("skip: %v, skipped lines %v", err, skipped)
	}
}

// FuzzFastV4 checks the hand-written IPv4 parser against net/netip: what
// it accepts, netip accepts with the same value.
func FuzzFastV4(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "1.2.3.4/32", "0.0.0.0/0", "255.255.255.255/9", "01.2.3.4", "1.2.3.4/08", "1.2.3.4/33", "1.2.3", "256.1.1.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		addr, bits, prefix, ok := fastV4([]byte(s))
		if !ok {
			return
		}
		if prefix {
			p, err := netip.ParsePrefix(s)
			if err != nil || !p.Addr().Is4() || p.Bits() != bits || u32(u128From(p.Addr()).lo) != u32(addr) {
				t.Fatalf("fastV4(%q) = %08x/%d; netip: %v, %v", s, addr, bits, p, err)
			}
			return
		}
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() || u32(u128From(a).lo) != u32(addr) {
			t.Fatalf("fastV4(%q) = %08x; netip: %v, %v", s, addr, a, err)
		}
	})
}

func TestCountList(t *testing.T) {
	v4, v6, err := CountList(strings.NewReader("10.0.0.0/8\n\n  \n2001:db8::/32\n# comment: with a colon\n192.0.2.1"))
	// The comment counts as IPv6: the count is an estimate for Grow.
	if err != nil || v4 != 2 || v6 != 2 {
		t.Errorf("CountList = %d, %d, %v", v4, v6, err)
	}
	long := strings.Repeat("x", 100<<10) + "\n10.0.0.1\n"
	if v4, _, err := CountList(strings.NewReader(long)); err != nil || v4 != 2 {
		t.Errorf("CountList with a long line = %d, %v", v4, err)
	}
}

// TestListFormats: the comment styles and marks of lists found in the
// wild, and Cisco wildcard masks.
func TestListFormats(t *testing.T) {
	list := "\xef\xbb\xbf192.0.2.0/25 ; SBL256894\n192.0.2.128/25;SBL2\n; a whole-line comment\n198.51.100.0/0.0.0.255 # a wildcard mask\n"
	var b Builder
	if err := b.ReadList(strings.NewReader(list), "drop.txt", nil); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(b.Finish().Prefixes()); got != "[192.0.2.0/24 198.51.100.0/24]" {
		t.Errorf("merged %s", got)
	}
	for in, want := range map[string]string{"10.0.0.0/0.0.0.255": "10.0.0.0/24", "10.0.0.0/255.255.0.0": "10.0.0.0/16", "10.0.0.0/0.0.0.0": "10.0.0.0/0"} {
		e, err := ParseEntry(in)
		if err != nil || fmt.Sprint(e.Range.Prefixes()) != "["+want+"]" && e.Kind != KindPrefix {
			t.Errorf("ParseEntry(%q) = %+v, %v", in, e, err)
		}
	}
	if _, err := ParseEntry("10.0.0.0/0.255.0.255"); err == nil || !strings.Contains(err.Error(), "wildcard mask") {
		t.Errorf("a scattered mask: %v", err)
	}
}

// TestReadFileSkipReservesNothingForJunk: with skip set, a file of junk
// does not make the builder reserve room for every line (it once reserved
// 139 MB for 200 MB of junk).
func TestReadFileSkipReservesNothingForJunk(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junk.txt")
	var b strings.Builder
	for i := range 100000 {
		fmt.Fprintf(&b, "junk line %d\n", i)
	}
	b.WriteString("192.0.2.1\n")
	os.WriteFile(path, []byte(b.String()), 0o600)
	var bl Builder
	skipped := 0
	if err := bl.ReadFile(path, func(*LineError) { skipped++ }); err != nil {
		t.Fatal(err)
	}
	if skipped != 100000 || cap(bl.v4) > 1024 {
		t.Errorf("skipped %d; reserved room for %d IPv4 entries", skipped, cap(bl.v4))
	}
}
