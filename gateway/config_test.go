package gateway

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func mustParse(t testing.TB, doc string) *Config {
	t.Helper()
	c, err := Parse("gw.toml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseExample(t *testing.T) {
	c, err := Load("testdata/example.toml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Forwards) != 3 || len(c.Rules) != 4 || !c.HasDefault || c.Default != Deny {
		t.Fatalf("forwards %d rules %d default %v %v", len(c.Forwards), len(c.Rules), c.HasDefault, c.Default)
	}
	if got := c.Rules[2].Pos.String(); got != "testdata/example.toml:49:1" {
		t.Errorf("rule 3 at %s, want testdata/example.toml:49:1", got)
	}
	if got := c.Rules[2].String(); got != "allow tcp from 203.0.113.0/24,2001:db8:1::/48 port 2222 time 07:00-19:00" {
		t.Errorf("rule 3 is %q", got)
	}
	if c.Forwards[0].Balance != "least-conn" || c.Timeouts.udp() != 5*time.Minute || c.Timeouts.connect() != 5*time.Second {
		t.Errorf("forward 1 or timeouts misread: %+v %+v", c.Forwards[0], c.Timeouts)
	}
	if f := Check(c); len(f) != 0 {
		t.Errorf("the example has findings: %v", f)
	}
}

// TestParseErrors: every fault is named with its line and column, and a
// caret under it.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want, pos string
	}{
		{"unknown key", "default = 'deny'\n[[rule]]\naction = 'allow'\nsrc = ['192.0.2.0/24']\n", "unknown field", "gw.toml:4:1"},
		{"bad action", "[[rule]]\naction = 'permit'\n", `action "permit": want allow, deny or reject`, "gw.toml:2:10"},
		{"host bits", "[[rule]]\naction = 'allow'\nsource = ['192.0.2.1/24']\n", "host bits are set; the network is 192.0.2.0/24", "gw.toml:3:"},
		{"port range", "[[rule]]\naction = 'allow'\nport = '90-80'\n", "the first port is above the last", "gw.toml:3:8"},
		{"port zero", "[[rule]]\naction = 'allow'\nport = '0'\n", "want a port from 1 to 65535", "gw.toml:3:8"},
		{"window", "[[rule]]\naction = 'allow'\ntime = '8-18'\n", "want HH:MM-HH:MM", "gw.toml:3:8"},
		{"no action", "default = 'deny'\n\n[[rule]]\nproto = 'tcp'\n", "action is missing", "gw.toml:3:1"},
		{"no target", "[[forward]]\nproto = 'tcp'\nlisten = '127.0.0.1:80'\n", "to is missing", "gw.toml:1:1"},
		{"proto any", "[[forward]]\nproto = 'any'\nlisten = '127.0.0.1:80'\nto = ['127.0.0.1:81']\n", "proto must be tcp or udp", "gw.toml:2:1"},
		{"proxy udp", "[[forward]]\nproto = 'udp'\nlisten = '127.0.0.1:53'\nto = ['127.0.0.1:54']\nproxy_v2 = true\n", "proxy_v2 is for tcp", "gw.toml:5:1"},
		{"bad duration", "[timeouts]\nudp = 'soon'\n", `duration "soon"`, "gw.toml:2:7"},
		{"type", "[[forward]]\nmax_conns = 'many'\n", "cannot decode TOML string", "gw.toml:2:"},
		{"bad target", "[[forward]]\nproto = 'tcp'\nlisten = '127.0.0.1:80'\nto = ['192.0.2.1']\n", "want ADDRESS:PORT", "gw.toml:4:"},
		{"inline rule", "rule = [{action = 'allow'}, {proto = 'tcp'}]\n", "rule 2: action is missing", "gw.toml:1:"},
		{"duplicate name", "[[forward]]\nname='a'\nproto='tcp'\nlisten='127.0.0.1:1'\nto=['127.0.0.1:2']\n[[forward]]\nname='a'\nproto='tcp'\nlisten='127.0.0.1:3'\nto=['127.0.0.1:2']\n", "taken", "gw.toml:7:1"},
		{"syntax", "default = \n", "", "gw.toml:1:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("gw.toml", []byte(tc.doc))
			ce, ok := errors.AsType[*ConfigError](err)
			if !ok {
				t.Fatalf("err = %v (%T), want a *ConfigError", err, err)
			}
			if !strings.Contains(ce.Msg, tc.want) || !strings.HasPrefix(ce.Pos.String(), tc.pos) {
				t.Errorf("got %s: %s, want %s...: ...%s", ce.Pos, ce.Msg, tc.pos, tc.want)
			}
			if !strings.Contains(ce.Excerpt, "^") && !strings.Contains(ce.Excerpt, "~") {
				t.Errorf("no caret under the fault:\n%s", ce.Error())
			}
		})
	}
}

func TestPorts(t *testing.T) {
	p, err := ParsePorts("443, 80,8000-8100,8050-8200,81")
	if err != nil {
		t.Fatal(err)
	}
	if p.String() != "80-81,443,8000-8200" {
		t.Errorf("merged to %s", p)
	}
	for port, want := range map[uint16]bool{79: false, 80: true, 81: true, 82: false, 443: true, 8000: true, 8200: true, 8201: false} {
		if p.Contains(port) != want {
			t.Errorf("Contains(%d) = %v", port, !want)
		}
	}
}

func TestWindow(t *testing.T) {
	day := func(h, m int) time.Time { return time.Date(2026, 12, 2, h, m, 0, 0, time.UTC) }
	w, _ := ParseWindow("22:00-06:00")
	for _, tc := range []struct {
		t    time.Time
		want bool
	}{{day(21, 59), false}, {day(22, 0), true}, {day(3, 0), true}, {day(5, 59), true}, {day(6, 0), false}, {day(12, 0), false}} {
		if w.Contains(tc.t) != tc.want {
			t.Errorf("%s contains %s = %v", w, tc.t.Format("15:04"), !tc.want)
		}
	}
}

func TestParseFlow(t *testing.T) {
	f, err := ParseFlow("tcp 203.0.113.5:40000 -> 198.51.100.1:80")
	if err != nil || f.String() != "tcp 203.0.113.5:40000 -> 198.51.100.1:80" {
		t.Fatalf("%v %v", f, err)
	}
	for _, bad := range []string{"", "tcp 203.0.113.5 -> 198.51.100.1:80", "icmp 1.2.3.4:1 -> 1.2.3.4:2", "tcp 1.2.3.4:1 => 1.2.3.4:2"} {
		if _, err := ParseFlow(bad); err == nil || !strings.Contains(err.Error(), "want PROTO SRC:PORT -> DST:PORT") {
			t.Errorf("ParseFlow(%q) = %v", bad, err)
		}
	}
}

// TestMatchIndexAgreesWithLinear: the indexed lookup decides as trying
// every rule in order does, for random rule sets and random flows, time
// windows included.
func TestMatchIndexAgreesWithLinear(t *testing.T) {
	for _, limit := range []int{flatten, 0} {
		t.Run(fmt.Sprintf("flatten=%d", limit), func(t *testing.T) {
			old := flatten
			flatten = limit
			defer func() { flatten = old }()
			matchAgrees(t)
		})
	}
}

func matchAgrees(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		rules := randomRules(r, 1+r.IntN(40))
		rs := NewRuleset(rules, Action(r.IntN(3)), time.UTC)
		for k := range 300 {
			f := randomFlow(r)
			now := time.Date(2026, 12, 2, r.IntN(24), r.IntN(60), 0, 0, time.UTC)
			got, want := rs.Match(f, now), rs.matchLinear(f, now)
			explained := want
			if k%8 == 0 {
				_, explained = rs.Explain(f, now)
			}
			if got != want || explained != want {
				t.Fatalf("round %d: %s at %s: index says %+v, linear %+v (and Explain agrees with linear: %v)\nrules: %v", round, f, now.Format("15:04"), got, want, explained == want, rules)
			}
		}
	}
}

// randomRules draws rules over a small space, so that they overlap.
func randomRules(r *rand.Rand, n int) []Rule {
	rules := make([]Rule, n)
	for i := range rules {
		ru := &rules[i]
		ru.Action = Action(r.IntN(3))
		ru.Proto = Proto(r.IntN(3))
		for range r.IntN(3) {
			ru.Source = append(ru.Source, randomPrefix(r))
		}
		var ranges []PortRange
		for range r.IntN(3) {
			lo := uint16(1 + r.IntN(40))
			ranges = append(ranges, PortRange{lo, lo + uint16(r.IntN(10))})
		}
		if len(ranges) > 0 {
			ru.Port = PortsOf(ranges...)
		}
		if r.IntN(5) == 0 {
			ru.Time = Window{From: r.IntN(1440), To: r.IntN(1440), set: true}
			if ru.Time.From == ru.Time.To {
				ru.Time.To = (ru.Time.To + 1) % 1440
			}
		}
	}
	return rules
}

func randomPrefix(r *rand.Rand) Prefix {
	if r.IntN(4) == 0 {
		a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(r.IntN(4))})
		return Prefix{netip.PrefixFrom(a, 120+r.IntN(9)).Masked()}
	}
	a := netip.AddrFrom4([4]byte{198, 51, 100, byte(r.IntN(256))})
	return Prefix{netip.PrefixFrom(a, 24+r.IntN(9)).Masked()}
}

func randomFlow(r *rand.Rand) Flow {
	var src netip.Addr
	switch r.IntN(5) {
	case 0:
		src = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(r.IntN(256))})
	case 1: // IPv4-mapped: matched as IPv4
		src = netip.AddrFrom16(netip.AddrFrom4([4]byte{198, 51, 100, byte(r.IntN(256))}).As16())
	default:
		src = netip.AddrFrom4([4]byte{198, 51, 100, byte(r.IntN(256))})
	}
	return Flow{Proto: Proto(1 + r.IntN(2)), Src: netip.AddrPortFrom(src, uint16(r.IntN(65536))),
		Dst: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), uint16(r.IntN(55)))}
}

func TestCheckFindings(t *testing.T) {
	c := mustParse(t, `
[[forward]]
name = "web"
proto = "tcp"
listen = "0.0.0.0:80"
to = ["192.0.2.10:80"]

[[forward]]
name = "web2"
proto = "tcp"
listen = "198.51.100.1:80"
to = ["192.0.2.11:80"]

[[forward]]
name = "mail"
proto = "tcp"
listen = "198.51.100.1:25"
to = ["192.0.2.25:25"]

[[rule]]
action = "allow"
proto = "tcp"
port = "80-90"

[[rule]]
action = "deny"
proto = "tcp"
source = ["203.0.113.0/24"]
port = "80"

[[rule]]
action = "deny"
proto = "udp"
port = "53"

[timeouts]
udp = "30s"
`)
	got := map[string]Finding{}
	for _, f := range Check(c) {
		got[f.Kind] = f
	}
	for kind, want := range map[string]string{
		"no-default":            "gw.toml:1:1",
		"shadowed":              "gw.toml:25:1",
		"overlapping-listeners": "gw.toml:8:1",
		"unreachable-forward":   "gw.toml:14:1",
		"unused-rule":           "gw.toml:31:1",
		"short-timeout":         "gw.toml",
	} {
		f, ok := got[kind]
		if !ok {
			t.Errorf("no %s finding; got %v", kind, Check(c))
			continue
		}
		if f.Pos.String() != want {
			t.Errorf("%s at %s, want %s: %s", kind, f.Pos, want, f.Msg)
		}
	}
	if f := got["shadowed"]; !strings.Contains(f.Msg, "rule 2") || !strings.Contains(f.Msg, "rule 1") || !strings.Contains(f.Msg, "allows what it would deny") {
		t.Errorf("shadowed: %s", f.Msg)
	}
}

func TestExplain(t *testing.T) {
	c, err := Load("testdata/example.toml")
	if err != nil {
		t.Fatal(err)
	}
	at := func(h int) time.Time { return time.Date(2026, 12, 2, h, 0, 0, 0, time.UTC) }
	f, _ := ParseFlow("tcp 203.0.113.5:40000 -> 198.51.100.1:2222")
	e := c.Explain(f, at(22))
	if e.Verdict.Action != Deny || e.Verdict.Rule != -1 || e.Forward == nil || e.Forward.Name != "ssh" {
		t.Fatalf("at 22:00: %+v", e)
	}
	if e.Tries[2].Matched || e.Tries[2].Why != "22:00 is outside 07:00-19:00" {
		t.Errorf("rule 3 at 22:00: %+v", e.Tries[2])
	}
	e = c.Explain(f, at(9))
	if e.Verdict.Action != Allow || e.Verdict.Rule != 2 {
		t.Errorf("at 09:00: %+v", e.Verdict)
	}
	if w := e.Tries[2].Why; w != "protocol tcp, source 203.0.113.5 in 203.0.113.0/24, port 2222 in 2222, 09:00 is inside 07:00-19:00" {
		t.Errorf("why: %s", w)
	}
	f, _ = ParseFlow("tcp [::ffff:203.0.113.200]:1 -> 198.51.100.1:80")
	if e := c.Explain(f, at(9)); e.Verdict.Action != Reject || e.Verdict.Rule != 0 {
		t.Errorf("a mapped address in the blocklist: %+v", e.Verdict)
	}
}

func TestProxyV2RoundTrip(t *testing.T) {
	for _, tc := range []struct{ src, dst string }{
		{"203.0.113.5:40000", "198.51.100.1:80"},
		{"[2001:db8::5]:40000", "[2001:db8::1]:443"},
		{"[::ffff:203.0.113.5]:40000", "[::ffff:198.51.100.1]:80"},
		{"203.0.113.5:1", "[2001:db8::1]:2"},
	} {
		src, dst := netip.MustParseAddrPort(tc.src), netip.MustParseAddrPort(tc.dst)
		b := AppendProxyV2(nil, TCP, src, dst)
		p, s, d, n, err := ParseProxyV2(append(b, "after"...))
		if err != nil || p != TCP || n != len(b) {
			t.Fatalf("%s: %v %v %d", tc.src, p, err, n)
		}
		if s.Addr().Unmap() != src.Addr().Unmap() || d.Addr().Unmap() != dst.Addr().Unmap() || s.Port() != src.Port() || d.Port() != dst.Port() {
			t.Errorf("%s -> %s came back as %s -> %s", src, dst, s, d)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("default = 'deny'\n[[rule]]\naction='allow'\nport='80,443'\nsource=['192.0.2.0/24']\ntime='08:00-18:00'\n"))
	f.Add([]byte("[[forward]]\nproto='udp'\nlisten='[::]:53'\nto=['[2001:db8::53]:53']\n"))
	f.Add([]byte("rule = [{action = 'deny', port = '1-65535'}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.toml", data)
		if err != nil {
			if _, ok := errors.AsType[*ConfigError](err); !ok {
				t.Fatalf("error %T is not a *ConfigError: %v", err, err)
			}
			return
		}
		Check(c)
		rs := NewRuleset(c.Rules, c.Default, c.Location())
		fl := Flow{Proto: TCP, Src: netip.MustParseAddrPort("192.0.2.7:1000"), Dst: netip.MustParseAddrPort("198.51.100.1:80")}
		if a, b := rs.Match(fl, time.Unix(0, 0)), rs.matchLinear(fl, time.Unix(0, 0)); a != b {
			t.Fatalf("index %+v, linear %+v", a, b)
		}
	})
}

func FuzzParseProxyV2(f *testing.F) {
	f.Add(AppendProxyV2(nil, TCP, netip.MustParseAddrPort("203.0.113.5:1"), netip.MustParseAddrPort("198.51.100.1:2")))
	f.Add(AppendProxyV2(nil, UDP, netip.MustParseAddrPort("[2001:db8::1]:1"), netip.MustParseAddrPort("[2001:db8::2]:2")))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, s, d, n, err := ParseProxyV2(b)
		if err != nil || !s.IsValid() {
			return
		}
		if n > len(b) {
			t.Fatalf("header of %d bytes in %d", n, len(b))
		}
		again := AppendProxyV2(nil, p, s, d)
		p2, s2, d2, _, err := ParseProxyV2(again)
		if err != nil || p2 != p || s2 != s || d2 != d {
			t.Fatalf("%v %v %v -> %v %v %v %v", p, s, d, p2, s2, d2, err)
		}
	})
}

func BenchmarkMatch(b *testing.B) {
	for _, n := range []int{10, 10000} {
		b.Run(strconv.Itoa(n)+"rules", func(b *testing.B) {
			r := rand.New(rand.NewPCG(3, 4))
			rules := make([]Rule, n)
			for i := range rules {
				a := netip.AddrFrom4([4]byte{10, byte(r.IntN(256)), byte(r.IntN(256)), 0})
				lo := uint16(1 + r.IntN(60000))
				rules[i] = Rule{Action: Action(r.IntN(3)), Proto: Proto(r.IntN(3)), Source: []Prefix{{netip.PrefixFrom(a, 16+r.IntN(9)).Masked()}},
					Port: PortsOf(PortRange{lo, lo + uint16(r.IntN(100))})}
			}
			// The last rules are the broad ones a real file ends with.
			rules = append(rules, Rule{Action: Allow, Proto: TCP, Port: PortsOf(PortRange{80, 80})}, Rule{Action: Deny})
			rs := NewRuleset(rules, Deny, time.UTC)
			flows := make([]Flow, 1024)
			for i := range flows {
				flows[i] = Flow{Proto: TCP, Src: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))}), 40000),
					Dst: netip.AddrPortFrom(netip.MustParseAddr("198.51.100.1"), uint16(1+r.IntN(60000)))}
			}
			now := time.Now()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rs.Match(flows[i&1023], now)
			}
		})
	}
}

// TestDocExample: the example in docs/gateway.md is the one tested here.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/gateway.md")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile("testdata/example.toml")
	if !strings.Contains(string(doc), "```toml\n"+string(want)+"```") {
		t.Error("docs/gateway.md's example is not testdata/example.toml")
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 12, 2, 15, 4, 5, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                     now,
		"22:00":                time.Date(2026, 12, 2, 22, 0, 0, 0, time.UTC),
		"2026-01-01T08:30:00Z": time.Date(2026, 1, 1, 8, 30, 0, 0, time.UTC),
	} {
		if got, err := ParseTime(in, now); err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseTime("tonight", now); err == nil {
		t.Error("tonight parsed")
	}
}
