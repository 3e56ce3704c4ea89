package acl

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestList(t *testing.T) {
	l, err := Parse([]string{"192.0.2.0/24,2001:db8::/32"}, []string{"192.0.2.13", "::ffff:198.51.100.0/120"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want string // "" allowed, else the error's text
	}{
		{"192.0.2.1", ""},
		{"::ffff:192.0.2.1", ""}, // mapped is IPv4
		{"2001:db8::1%eth0", ""}, // zones are ignored
		{"192.0.2.13", "192.0.2.13 is denied by deny 192.0.2.13/32"},
		{"::ffff:192.0.2.13", "192.0.2.13 is denied by deny 192.0.2.13/32"},
		{"198.51.100.7", "198.51.100.7 is denied by deny 198.51.100.0/24"},
		{"203.0.113.1", "203.0.113.1 is not in any allow prefix"},
		{"2001:db9::1", "2001:db9::1 is not in any allow prefix"},
	}
	for _, tt := range tests {
		err := l.Check(netip.MustParseAddr(tt.in))
		got := ""
		if err != nil {
			got = err.Error()
			if _, ok := errors.AsType[*DeniedError](err); !ok {
				t.Errorf("Check(%s) = %T, want *DeniedError", tt.in, err)
			}
		}
		if got != tt.want {
			t.Errorf("Check(%s) = %q, want %q", tt.in, got, tt.want)
		}
		if l.Allows(netip.MustParseAddr(tt.in)) != (tt.want == "") {
			t.Errorf("Allows(%s) disagrees with Check", tt.in)
		}
	}
	if named := l.Named("--allow", "--deny").Check(netip.MustParseAddr("192.0.2.13")); !strings.Contains(named.Error(), "denied by --deny 192.0.2.13/32") {
		t.Errorf("named: %v", named)
	}
}

func TestEmptyAllowsAll(t *testing.T) {
	var l List
	if !l.IsEmpty() || l.Filter() != nil || !l.Allows(netip.MustParseAddr("192.0.2.1")) {
		t.Error("the zero List must allow everything at no cost")
	}
	deny := New(nil, []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")})
	if deny.Allows(netip.MustParseAddr("192.0.2.1")) || !deny.Allows(netip.MustParseAddr("2001:db8::1")) {
		t.Error("deny 0.0.0.0/0 must deny IPv4 only")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ allow, deny, want string }{
		{"192.0.2.1/24", "", `invalid allow entry "192.0.2.1/24": host bits are set; the network is 192.0.2.0/24`},
		{"", "nope", `invalid deny entry "nope": want an address or CIDR prefix`},
		{"fe80::1%eth0", "", "zones have no place"},
		{"192.0.2.0/33", "", `invalid allow entry "192.0.2.0/33"`},
		{"192.0.2.1,", "", `invalid allow entry ""`},
	}
	for _, tt := range tests {
		var a, d []string
		if tt.allow != "" {
			a = []string{tt.allow}
		}
		if tt.deny != "" {
			d = []string{tt.deny}
		}
		_, err := Parse(a, d)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q, %q) = %v, want %q", tt.allow, tt.deny, err, tt.want)
		}
	}
}

func TestUnmap(t *testing.T) {
	for in, want := range map[string]string{
		"::ffff:192.0.2.0/120": "192.0.2.0/24",
		"::ffff:0.0.0.0/96":    "0.0.0.0/0",
		"::ffff:0:0/95":        "::fffe:0:0/95",
		"2001:db8::/32":        "2001:db8::/32",
		"192.0.2.7/24":         "192.0.2.0/24",
	} {
		if got := Unmap(netip.MustParsePrefix(in)); got.String() != want {
			t.Errorf("Unmap(%s) = %s, want %s", in, got, want)
		}
	}
}

// FuzzParsePrefix: what parses is what netip parses (as a prefix, or an
// address as a full-length prefix), masked; nothing panics.
func FuzzParsePrefix(f *testing.F) {
	for _, s := range []string{"192.0.2.0/24", "2001:db8::1", "::ffff:1.2.3.4/128", "1.2.3.4/32", "fe80::1%x", "1.2.3.4/40", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrefix(s)
		if err != nil {
			if _, ok := errors.AsType[*ParseError](err); !ok {
				t.Fatalf("ParsePrefix(%q): %T is not *ParseError", s, err)
			}
			return
		}
		ref, rerr := netip.ParsePrefix(s)
		if rerr != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				t.Fatalf("ParsePrefix(%q) = %s, but netip rejects it", s, p)
			}
			ref = netip.PrefixFrom(a, a.BitLen())
		}
		if p != ref || p != p.Masked() {
			t.Fatalf("ParsePrefix(%q) = %s, netip says %s", s, p, ref)
		}
	})
}
