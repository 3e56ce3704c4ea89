package ipset

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// benchLines returns n random IPv4 prefix lines.
func benchLines(n int) [][]byte {
	r := rand.New(rand.NewPCG(1, 1))
	out := make([][]byte, n)
	for i := range out {
		v := r.Uint32()
		a := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		p, _ := a.Prefix(8 + r.IntN(25))
		out[i] = []byte(p.String())
	}
	return out
}

// BenchmarkParseEntryBytes and BenchmarkNetipParsePrefix parse the same
// lines: the first is what ip merge does per line, the second the
// baseline it is held to (within 1.2x).
func BenchmarkParseEntryBytes(b *testing.B) {
	lines := benchLines(1024)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := ParseEntryBytes(lines[i&1023]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNetipParsePrefix(b *testing.B) {
	lines := benchLines(1024)
	strs := make([]string, len(lines))
	for i, l := range lines {
		strs[i] = string(l)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := netip.ParsePrefix(strs[i&1023]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMerge reads, aggregates and lists 100,000 lines.
func BenchmarkMerge(b *testing.B) {
	var buf bytes.Buffer
	for _, l := range benchLines(100_000) {
		buf.Write(l)
		buf.WriteByte('\n')
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var bd Builder
		if err := bd.ReadList(bytes.NewReader(data), "bench", nil); err != nil {
			b.Fatal(err)
		}
		n := 0
		for range bd.Finish().All() {
			n++
		}
	}
}

// TestReadListAllocs: reading does not allocate per line; what it
// allocates (the reader's buffer, the slice growing) does not grow with
// the number of lines beyond the slice's doublings.
func TestReadListAllocs(t *testing.T) {
	var buf bytes.Buffer
	for i := range 50_000 {
		fmt.Fprintf(&buf, "10.%d.%d.0/24\n2001:db8:%x::/48\n", i>>8&255, i&255, i)
	}
	data := buf.Bytes()
	allocs := testing.AllocsPerRun(5, func() {
		var b Builder
		if err := b.ReadList(bytes.NewReader(data), "t", nil); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 100 {
		t.Errorf("ReadList of 100,000 lines made %.0f allocations; want no more than the slice doublings", allocs)
	}
}

// BenchmarkMergeLineParse is the per-line parse of ip merge's loop for
// IPv4 lines (the hand-written fast path), to hold against
// BenchmarkNetipParsePrefix.
func BenchmarkMergeLineParse(b *testing.B) {
	lines := benchLines(1024)
	b.ReportAllocs()
	var sink span[u32]
	for i := 0; b.Loop(); i++ {
		addr, bits, _, ok := fastV4(lines[i&1023])
		if !ok {
			b.Fatal("fast path refused a line")
		}
		sink = v4SpanOf(addr, bits)
	}
	_ = sink
}
