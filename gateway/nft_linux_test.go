package gateway

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/internal/testutil"
)

// TestDecidesAsNftables: the same random policy, written as an nftables
// ruleset in a namespace and as a gateway file, decides the same for a
// seeded set of random flows. Each flow's first packet is sent to the
// namespace for real, and the rule whose counter moved is nftables'
// verdict.
func TestDecidesAsNftables(t *testing.T) {
	nft := testutil.Program(t, "nft")
	sender, receiver := testutil.NewNetns(t), testutil.NewNetns(t)
	aIf, _ := testutil.Veth(t, sender, netip.MustParsePrefix("198.51.100.1/24"), receiver, netip.MustParsePrefix("198.51.100.250/24"))
	var sources []netip.Addr
	for i := 1; i <= 40; i++ {
		a := netip.AddrFrom4([4]byte{198, 51, 100, byte(i * 6)})
		if i > 1 {
			sender.Run(t, "ip", "addr", "add", a.String()+"/24", "dev", aIf, "noprefixroute")
		}
		sources = append(sources, a)
	}
	sources[0] = netip.MustParseAddr("198.51.100.1")
	dst := netip.MustParseAddr("198.51.100.250")

	r := rand.New(rand.NewPCG(19, 4787))
	for round := range 3 {
		rules := randomRules(r, 10+r.IntN(30))
		for i := range rules {
			rules[i].Time = Window{} // nftables' meta hour needs a clock in step; left out
			rules[i].Source = nil
			for range r.IntN(3) {
				a := sources[r.IntN(len(sources))]
				rules[i].Source = append(rules[i].Source, Prefix{netip.PrefixFrom(a, 26+r.IntN(7)).Masked()})
			}
		}
		def := Allow
		if r.IntN(2) == 0 {
			def = Deny
		}
		doc := tomlOf(rules, def)
		c, err := Parse("random.toml", []byte(doc))
		if err != nil {
			t.Fatalf("round %d: %v\n%s", round, err, doc)
		}
		rs := NewRuleset(c.Rules, c.Default, time.UTC)
		ruleset := nftOf(c.Rules, def)
		cmd := receiver.Command(nft, "-f", "-")
		cmd.Stdin = strings.NewReader("flush ruleset\n" + ruleset)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("nft -f: %v: %s\n%s", err, out, ruleset)
		}
		last := nftCounters(t, receiver, nft)
		for k := range 100 {
			f := Flow{Proto: Proto(1 + r.IntN(2)), Src: netip.AddrPortFrom(sources[r.IntN(len(sources))], uint16(20000+r.IntN(40000))),
				Dst: netip.AddrPortFrom(dst, uint16(1+r.IntN(50)))}
			if err := sender.Do(func() error { return sendFirst(f) }); err != nil {
				t.Fatal(err)
			}
			now := nftCounters(t, receiver, nft)
			var moved []int
			for i := range now {
				if now[i] != last[i] {
					moved = append(moved, i)
				}
			}
			last = now
			want := -1 // the rule nftables used; the last counter is the default's
			if len(moved) != 1 {
				t.Fatalf("round %d flow %d (%s): counters %v moved, want exactly one", round, k, f, moved)
			}
			if moved[0] < len(c.Rules) {
				want = moved[0]
			}
			if got := rs.Match(f, time.Now()); got.Rule != want {
				t.Fatalf("round %d flow %d: %s: netkit says rule %d (%s), nftables rule %d\n%s\n%s", round, k, f, got.Rule+1, got.Action, want+1, doc, ruleset)
			}
		}
	}
}

// sendFirst sends a flow's first packet: a UDP datagram, or a TCP SYN
// (the connect is abandoned after a moment).
func sendFirst(f Flow) error {
	if f.Proto == UDP {
		c, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(f.Src), net.UDPAddrFromAddrPort(f.Dst))
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("x"))
		return err
	}
	d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(f.Src), Timeout: 30 * time.Millisecond}
	if c, err := d.Dial("tcp", f.Dst.String()); err == nil {
		c.Close()
	}
	return nil
}

func tomlOf(rules []Rule, def Action) string {
	var b strings.Builder
	fmt.Fprintf(&b, "default = %q\n", def)
	for _, r := range rules {
		fmt.Fprintf(&b, "[[rule]]\naction = %q\nproto = %q\n", r.Action, r.Proto)
		if !r.Port.IsAny() {
			fmt.Fprintf(&b, "port = %q\n", r.Port)
		}
		if len(r.Source) > 0 {
			var s []string
			for _, p := range r.Source {
				s = append(s, fmt.Sprintf("%q", p))
			}
			fmt.Fprintf(&b, "source = [%s]\n", strings.Join(s, ", "))
		}
	}
	return b.String()
}

// nftOf writes the rules as an nftables input chain, each rule with a
// counter, and a last counted rule for the default.
func nftOf(rules []Rule, def Action) string {
	var b strings.Builder
	b.WriteString("table inet nk {\n\tchain in {\n\t\ttype filter hook input priority 0; policy accept;\n")
	b.WriteString("\t\tip saddr != 198.51.100.0/24 accept\n\t\tmeta l4proto != { tcp, udp } accept\n")
	for _, r := range rules {
		b.WriteString("\t\t")
		switch r.Proto {
		case TCP:
			b.WriteString("meta l4proto tcp ")
		case UDP:
			b.WriteString("meta l4proto udp ")
		}
		if len(r.Source) > 0 {
			var s []string
			for _, p := range r.Source {
				s = append(s, p.String())
			}
			fmt.Fprintf(&b, "ip saddr { %s } ", strings.Join(s, ", "))
		}
		if !r.Port.IsAny() {
			fmt.Fprintf(&b, "th dport { %s } ", strings.ReplaceAll(r.Port.String(), ",", ", "))
		}
		fmt.Fprintf(&b, "counter %s\n", nftVerdict(r.Action))
	}
	fmt.Fprintf(&b, "\t\tcounter %s\n\t}\n}\n", nftVerdict(def))
	return b.String()
}

func nftVerdict(a Action) string {
	switch a {
	case Allow:
		return "accept"
	case Reject:
		return "reject"
	}
	return "drop"
}

// nftCounters returns the packet counts of the chain's counted rules, in
// order.
func nftCounters(t *testing.T, ns *testutil.Netns, nft string) []uint64 {
	t.Helper()
	out := ns.Run(t, nft, "-j", "list", "chain", "inet", "nk", "in")
	var doc struct {
		Nftables []struct {
			Rule *struct {
				Expr []map[string]json.RawMessage `json:"expr"`
			} `json:"rule"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("nft -j: %v", err)
	}
	var counts []uint64
	for _, item := range doc.Nftables {
		if item.Rule == nil {
			continue
		}
		for _, e := range item.Rule.Expr {
			if raw, ok := e["counter"]; ok {
				var c struct{ Packets uint64 }
				json.Unmarshal(raw, &c)
				counts = append(counts, c.Packets)
			}
		}
	}
	return counts
}
