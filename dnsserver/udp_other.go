//go:build !(linux && (amd64 || arm64))

package dnsserver

import (
	"context"
	"errors"
	"net"
	"time"
)

// udpLoop reads one query at a time where recvmmsg is not available.
func (s *Server) udpLoop(ctx context.Context, pc *net.UDPConn) error {
	buf := make([]byte, 65535)
	out := make([]byte, 0, 65535)
	for {
		n, src, err := pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		if resp := s.answerUDP(ctx, pc, buf[:n], src, time.Now(), out[:0]); resp != nil {
			pc.WriteToUDPAddrPort(resp, src)
		}
	}
}
