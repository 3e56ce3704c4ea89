package dnsserver

import (
	"bytes"
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// FuzzServeWire sends the server arbitrary messages. It must answer with a
// well-formed response to the same ID (FORMERR when the question cannot be
// read) or not at all, never crash, and the packed-answer path must give
// the bytes the full path gave.
func FuzzServeWire(f *testing.F) {
	for _, q := range []struct {
		name  string
		qtype uint16
		edns  bool
	}{
		{"www.example.", dns.TypeA, true}, {"nx.example.", dns.TypeMX, false}, {"big.example.", dns.TypeTXT, false},
		{"a.child.example.", dns.TypeNS, true}, {"x.wild.example.", dns.TypeANY, true}, {"example.", dns.TypeAXFR, false},
	} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		if q.edns {
			m.SetEdns0(512, true)
		}
		w, _ := m.Pack()
		f.Add(w)
	}
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1}) // a pointer loop
	f.Add([]byte{0, 1, 0x80})
	zs, err := LoadZones([]ZoneFile{{Path: "testdata/example.zone"}})
	if err != nil {
		f.Fatal(err)
	}
	s := &Server{}
	s.SetZones(zs)
	src := netip.MustParseAddrPort("127.0.0.1:5300")
	f.Fuzz(func(t *testing.T, q []byte) {
		first := s.serveWire(context.Background(), q, src, false, time.Now(), nil)
		first = bytes.Clone(first)
		if first != nil {
			if len(first) < 12 || first[0] != q[0] || first[1] != q[1] || first[2]&0x80 == 0 {
				t.Fatalf("answer %x to %x: not a response to the same ID", first, q)
			}
			var m dns.Msg
			if err := m.Unpack(first); err != nil && first[3]&0xf != dns.RcodeFormatError {
				t.Fatalf("answer %x does not parse: %v", first, err)
			}
			if len(first) > 512 && len(q) > 11 && q[11] == 0 {
				t.Fatalf("a %d-byte UDP answer to a query without EDNS", len(first))
			}
		}
		// Asked again, perhaps from the packed answers: the same bytes.
		out, ok := s.fast.answer(q, nil, time.Now())
		if ok && !bytes.Equal(out, first) {
			t.Fatalf("packed answer differs:\n%x\n%x", out, first)
		}
	})
}
