// Command ipgen writes random address lists for the aggregation benchmark:
// -n lines of IPv4 or IPv6 addresses and prefixes, from a fixed seed so
// every run and every contender sees the same input.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
)

func main() {
	n := flag.Int("n", 1_000_000, "lines")
	v6 := flag.Bool("6", false, "IPv6 instead of IPv4")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	r := rand.New(rand.NewPCG(*seed, 42))
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	buf := make([]byte, 0, 64)
	for range *n {
		var a netip.Addr
		var bits int
		if *v6 {
			// Clustered in a few /32s so that merging has work to do.
			var b [16]byte
			b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, byte(0xb8+r.IntN(4))
			for i := 4; i < 16; i++ {
				b[i] = byte(r.Uint32())
			}
			if r.IntN(4) == 0 {
				b[4], b[5] = 0, byte(r.IntN(16))
			}
			a = netip.AddrFrom16(b)
			bits = []int{128, 128, 64, 56, 48, 127}[r.IntN(6)]
		} else {
			// Half in 10.0.0.0/8 so neighbours meet and merge.
			v := r.Uint32()
			if r.IntN(2) == 0 {
				v = 10<<24 | v&0x00ffffff
			}
			a = netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
			bits = []int{32, 32, 32, 24, 28, 30, 31, 20}[r.IntN(8)]
		}
		buf = buf[:0]
		if bits == a.BitLen() && r.IntN(2) == 0 {
			buf = a.AppendTo(buf)
		} else {
			p, _ := a.Prefix(bits)
			buf = p.AppendTo(buf)
		}
		buf = append(buf, '\n')
		w.Write(buf)
	}
	fmt.Fprint(os.Stderr)
}
