package ipcalc

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/netkit-dev/netkit/internal/testutil"
	"github.com/netkit-dev/netkit/ipset"
)

// randomInputs makes n addresses and prefixes, IPv4 and IPv6, with a bias
// to the edges: /0, /31, /32, /127, /128, mapped, 6to4 and Teredo.
func randomInputs(r *rand.Rand, n int) []string {
	var out []string
	for range n {
		var a netip.Addr
		switch r.IntN(6) {
		case 0, 1, 2:
			a = netip.AddrFrom4([4]byte{byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())})
		case 3:
			var b [16]byte
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			a = netip.AddrFrom16(b)
		case 4:
			b := netip.MustParseAddr([]string{"::ffff:0.0.0.0", "2002::", "2001::", "64:ff9b::"}[r.IntN(4)]).As16()
			for i := 4; i < 16; i++ {
				b[i] |= byte(r.Uint32())
			}
			if b[0] == 0 && b[10] == 0xff { // keep the mapped prefix intact
				for i := 0; i < 10; i++ {
					b[i] = 0
				}
				b[10], b[11] = 0xff, 0xff
			}
			a = netip.AddrFrom16(b)
		default:
			var b [16]byte
			b[0] = byte(0x20 + r.IntN(2))
			for i := 1; i < 16; i++ {
				b[i] = byte(r.Uint32())
			}
			a = netip.AddrFrom16(b)
		}
		if r.IntN(2) == 0 {
			out = append(out, a.String())
			continue
		}
		edges := []int{0, 1, a.BitLen() - 1, a.BitLen()}
		bits := r.IntN(a.BitLen() + 1)
		if r.IntN(3) == 0 {
			bits = edges[r.IntN(len(edges))]
		}
		out = append(out, fmt.Sprintf("%s/%d", a, bits))
	}
	return out
}

// TestAgainstPython compares ipcalc with Python's ipaddress on thousands
// of random inputs.
func TestAgainstPython(t *testing.T) {
	py := testutil.Program(t, "python3")
	inputs := randomInputs(rand.New(rand.NewPCG(7, 11)), 5000)
	cmd := exec.Command(py, "testdata/pyfacts.py")
	cmd.Stdin = strings.NewReader(strings.Join(inputs, "\n") + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	i := 0
	for sc.Scan() {
		var py map[string]any
		if err := json.Unmarshal(sc.Bytes(), &py); err != nil {
			t.Fatal(err)
		}
		in := py["input"].(string)
		if in != inputs[i] {
			t.Fatalf("line %d: python answered for %q, want %q", i, in, inputs[i])
		}
		i++
		if e, ok := py["error"]; ok {
			t.Errorf("%s: python says %v", in, e)
			continue
		}
		e, err := ipset.ParseEntry(in)
		if err != nil {
			t.Errorf("%s: python parses it, ParseEntry says %v", in, err)
			continue
		}
		f := Describe(in, e)
		// Addresses are compared as values: Python 3.11 writes mapped
		// addresses in hex (::ffff:102:304), netkit in RFC 5952's mixed
		// notation (::ffff:1.2.3.4).
		check := func(field, got string) {
			want, ok := py[field]
			if !ok || fmt.Sprint(want) == got {
				return
			}
			w := fmt.Sprint(want)
			if a, err1 := netip.ParseAddr(w); err1 == nil {
				if b, err2 := netip.ParseAddr(got); err2 == nil && a == b {
					return
				}
			}
			if a, err1 := netip.ParsePrefix(w); err1 == nil {
				if b, err2 := netip.ParsePrefix(got); err2 == nil && a == b {
					return
				}
			}
			t.Errorf("%s: %s = %s, python says %v", in, field, got, want)
		}
		if e.Kind == ipset.KindPrefix {
			check("network", f.Network.String())
			check("last_address", e.Range.To().String())
			check("total", f.Total.String())
			check("first_host", f.First.String())
			check("prefix", e.Prefix.Masked().String())
			if e.Prefix.Addr().Is4() {
				check("netmask", f.Netmask.String())
				check("hostmask", f.Wildcard.String())
			}
			continue
		}
		check("address", f.Address.String())
		check("integer", f.Integer)
		check("reverse", f.ReverseName)
		emb := EmbeddedIPv4(e.Addr)
		how := func(h string) string {
			if emb != nil && emb.How == h {
				return emb.Address.String()
			}
			return "<nil>"
		}
		check("mapped", how("ipv4-mapped"))
		check("sixtofour", how("6to4"))
		if emb != nil && emb.How == "teredo" {
			check("teredo", fmt.Sprintf("[%s %s]", emb.TeredoServer, emb.Address))
		} else {
			check("teredo", "<nil>")
		}
	}
	if i != len(inputs) {
		t.Fatalf("python answered %d of %d inputs", i, len(inputs))
	}
}
