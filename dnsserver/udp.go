package dnsserver

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/netkit-dev/netkit/internal/udpbatch"
)

// slotSize is the longest query read whole; a longer one is answered
// FORMERR.
const slotSize = 4096

// udpLoop answers the queries one reader takes from pc, in batches (see
// package udpbatch): on Linux one recvmmsg and one sendmmsg a batch.
func (s *Server) udpLoop(ctx context.Context, pc *net.UDPConn) error {
	return udpbatch.Serve(ctx, pc, udpbatch.Config{Slot: slotSize}, func(w *udpbatch.Writer, q []byte, src netip.AddrPort, truncated bool) {
		var resp []byte
		if truncated {
			resp = formErr(q) // longer than any query we read
		} else {
			resp = s.answerUDP(ctx, pc, q, src, time.Now(), w.Buffer())
		}
		if resp != nil {
			w.Send(resp, src)
		}
	})
}
