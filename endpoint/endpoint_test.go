package endpoint

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Endpoint
		str  string // String() if it differs from in
	}{
		{in: "tcp://127.0.0.1:80", want: Endpoint{Scheme: TCP, Host: "127.0.0.1", Port: 80}},
		{in: "tcp4://127.0.0.1:0", want: Endpoint{Scheme: TCP4, Host: "127.0.0.1", Port: 0}},
		{in: "tcp6://[::1]:7", want: Endpoint{Scheme: TCP6, Host: "::1", Port: 7}},
		{in: "udp://[2001:db8::1]:53", want: Endpoint{Scheme: UDP, Host: "2001:db8::1", Port: 53}},
		{in: "udp4://example.com:65535", want: Endpoint{Scheme: UDP4, Host: "example.com", Port: 65535}},
		{in: "udp6://[::1]:1", want: Endpoint{Scheme: UDP6, Host: "::1", Port: 1}},
		{in: "tls://example.com:443", want: Endpoint{Scheme: TLS, Host: "example.com", Port: 443}},
		{in: "unix:///run/x.sock", want: Endpoint{Scheme: Unix, Path: "/run/x.sock"}},
		{in: "unix://@abstract", want: Endpoint{Scheme: Unix, Path: "@abstract"}},
		{in: "unix://rel/x.sock", want: Endpoint{Scheme: Unix, Path: "rel/x.sock"}},
		{in: "-", want: Endpoint{Scheme: Stdio}},
		{in: "localhost:8080", want: Endpoint{Scheme: TCP, Host: "localhost", Port: 8080}, str: "tcp://localhost:8080"},
		{in: ":8080", want: Endpoint{Scheme: TCP, Port: 8080}, str: "tcp://:8080"},
		{in: "[::1]:22", want: Endpoint{Scheme: TCP, Host: "::1", Port: 22}, str: "tcp://[::1]:22"},
		// The zone separator prints as RFC 6874's %25, so that a zone that
		// itself begins with 25 survives the round trip (a fuzz find).
		{in: "tcp://[fe80::1%eth0]:80", want: Endpoint{Scheme: TCP, Host: "fe80::1%eth0", Port: 80}, str: "tcp://[fe80::1%25eth0]:80"},
		{in: "tcp://[fe80::1%25eth0]:80", want: Endpoint{Scheme: TCP, Host: "fe80::1%eth0", Port: 80}},
		{in: "tcp://[::%2525]:0", want: Endpoint{Scheme: TCP, Host: "::%25", Port: 0}},
		{in: "tcp://[::ffff:192.0.2.1]:80", want: Endpoint{Scheme: TCP, Host: "::ffff:192.0.2.1", Port: 80}},
		{in: "tcp://host.example.:80", want: Endpoint{Scheme: TCP, Host: "host.example.", Port: 80}},
		{in: "tcp://_srv.x-y.example:80", want: Endpoint{Scheme: TCP, Host: "_srv.x-y.example", Port: 80}},
		{in: "tcp://127.0.0.1:00080", want: Endpoint{Scheme: TCP, Host: "127.0.0.1", Port: 80}, str: "tcp://127.0.0.1:80"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("Parse(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
			str := tt.str
			if str == "" {
				str = tt.in
			}
			if got.String() != str {
				t.Errorf("String() = %q, want %q", got.String(), str)
			}
			if !got.IsValid() {
				t.Errorf("IsValid() = false")
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in      string
		wantErr []string // substrings the message must hold
	}{
		{"tcp://127.0.0.1:66000", []string{`invalid port 66000 in "tcp://127.0.0.1:66000"`, "ports are 0-65535"}},
		{"tcp://::1:80", []string{`"tcp://::1:80"`, "brackets", "[::1]:80"}},
		{"ftp://x:1", []string{`unsupported scheme "ftp"`, "tcp, tcp4, tcp6, udp, udp4, udp6, unix, tls"}},
		{"", []string{"empty endpoint"}},
		{"tcp://host", []string{"missing port", `"tcp://host"`}},
		{"tcp://host:", []string{"missing port"}},
		{"host", []string{"missing port"}},
		{"8080", []string{"missing host", `":8080"`}},
		{"tcp://host:http", []string{`invalid port "http"`, "decimal"}},
		{"tcp://host:-1", []string{`invalid port "-1"`}},
		{"tcp://host:+80", []string{`invalid port "+80"`}},
		{"tcp://host:99999999999999999999999", []string{"ports are 0-65535"}},
		{"tcp://010.0.0.1:80", []string{`invalid IPv4 address "010.0.0.1"`, "leading zero"}},
		{"tcp://256.0.0.1:80", []string{`invalid IPv4 address "256.0.0.1"`}},
		{"tcp://1.2.3:80", []string{`invalid IPv4 address "1.2.3"`}},
		{"tcp://[1.2.3.4]:80", []string{"brackets are for IPv6"}},
		{"tcp://[::1:80", []string{"missing ']'"}},
		{"tcp://[::1]", []string{"missing port"}},
		{"tcp://[::1]80", []string{`unexpected "80" after ']'`}},
		{"tcp://[::g]:80", []string{`invalid IPv6 address "::g"`}},
		{"tcp://host:80/path", []string{"unexpected path"}},
		{"tcp://user@host:80", []string{"user information"}},
		{"tcp://ho st:80", []string{`invalid character ' '`}},
		{"tcp://a..b:80", []string{"empty label"}},
		{"tcp://" + strings.Repeat("a", 64) + ":80", []string{"at most 63"}},
		{"TCP://host:80", []string{`unsupported scheme "TCP"`}},
		{"unix://", []string{"missing socket path"}},
		{"unix://" + strings.Repeat("x", 108), []string{"at most 107 bytes"}},
		{"unix://a\x00b", []string{"NUL"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want an error", tt.in)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %T is not a *ParseError", tt.in, err)
			}
			if pe.Input != tt.in {
				t.Errorf("ParseError.Input = %q, want %q", pe.Input, tt.in)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Parse(%q) error %q does not contain %q", tt.in, err, want)
				}
			}
		})
	}
}

func TestExactMessages(t *testing.T) {
	// The forms DESIGN.md promises, to the letter.
	_, err := Parse("tcp://127.0.0.1:66000")
	if got, want := err.Error(), `invalid port 66000 in "tcp://127.0.0.1:66000": ports are 0-65535`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestAccessors(t *testing.T) {
	e := MustParse("udp://[2001:db8::1]:53")
	if e.Network() != "udp" || e.Address() != "[2001:db8::1]:53" || !e.IsPacket() || e.IsStdio() {
		t.Errorf("udp endpoint: network %q address %q packet %v", e.Network(), e.Address(), e.IsPacket())
	}
	ap, ok := e.AddrPort()
	if !ok || ap != netip.MustParseAddrPort("[2001:db8::1]:53") {
		t.Errorf("AddrPort() = %v, %v", ap, ok)
	}
	if _, ok := MustParse("tcp://example.com:1").AddrPort(); ok {
		t.Error("AddrPort() of a name reported ok")
	}
	if n := MustParse("tls://h:1").Network(); n != "tcp" {
		t.Errorf("tls Network() = %q, want tcp", n)
	}
	if a := MustParse("unix:///x").Address(); a != "/x" {
		t.Errorf("unix Address() = %q", a)
	}
	if (Endpoint{}).IsValid() || (Endpoint{}).Network() != "" {
		t.Error("zero Endpoint claims to be valid")
	}
	if got := MustParse("tcp://h:1").WithPort(2).String(); got != "tcp://h:2" {
		t.Errorf("WithPort: %q", got)
	}
}

func TestText(t *testing.T) {
	var e Endpoint
	if err := e.UnmarshalText([]byte("tcp6://[::1]:9")); err != nil {
		t.Fatal(err)
	}
	b, _ := e.MarshalText()
	if string(b) != "tcp6://[::1]:9" {
		t.Errorf("MarshalText = %q", b)
	}
	if err := e.UnmarshalText([]byte("tcp://x")); err == nil {
		t.Error("UnmarshalText accepted a bad endpoint")
	}
	if b, _ := (Endpoint{}).MarshalText(); len(b) != 0 {
		t.Errorf("zero MarshalText = %q", b)
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParse of a bad endpoint did not panic")
		}
	}()
	MustParse("tcp://x")
}

// FuzzParse checks that Parse never panics, that what it accepts prints as
// a URL that parses back to the same value, and that IP literals agree
// with net/netip.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"tcp://127.0.0.1:80", "udp6://[fe80::1%25eth0]:53", "unix:///run/x.sock", "-",
		"host:1", "[::1]:0", "tcp://::1:80", "tcp://010.1.1.1:1", "ftp://x:1",
		"tls://a.b.c:443", "tcp://[::ffff:1.2.3.4]:1", "tcp://:0", "unix://@x",
		"tcp://[::%2525]:0", // once printed as text that did not parse
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Input != s {
				t.Fatalf("Parse(%q): error %v is not a ParseError quoting the input", s, err)
			}
			return
		}
		back, err := Parse(e.String())
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", s, e.String(), err)
		}
		if back != e {
			t.Fatalf("round trip of %q: %#v != %#v", s, back, e)
		}
		if a, ok := e.Addr(); ok {
			if b, err := netip.ParseAddr(e.Host); err != nil || a != b {
				t.Fatalf("Addr() of %q disagrees with netip", s)
			}
		}
	})
}
