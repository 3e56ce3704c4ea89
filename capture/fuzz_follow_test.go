package capture_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/netkit-dev/netkit/capture"
)

// FuzzFollow feeds frames built from fuzzed sequence numbers and lengths:
// reassembly never crashes, and holds no more than MaxPending bytes.
func FuzzFollow(f *testing.F) {
	f.Add(uint32(1000), uint16(10), uint32(1010), uint16(5), uint32(995), uint16(20))
	f.Add(uint32(0xfffffff0), uint16(40), uint32(0x10), uint16(8), uint32(0xfffffffa), uint16(3))
	f.Fuzz(func(t *testing.T, s1 uint32, l1 uint16, s2 uint32, l2 uint16, s3 uint32, l3 uint16) {
		fl := &capture.Follow{MaxPending: 1 << 12, Chunk: func(capture.Chunk) {}, Problem: func(_, _ netip.AddrPort, _ string) {}}
		for _, s := range []struct {
			seq uint32
			n   uint16
		}{{s1, l1 % 3000}, {s2, l2 % 3000}, {s3, l3 % 3000}, {s1, l1 % 3000}} {
			fl.Add(capture.Decode(synthSeq(t, s.seq, int(s.n)), layers.LinkTypeEthernet, time.Unix(0, 0), 0))
		}
		fl.Flush()
	})
}
