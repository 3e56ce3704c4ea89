package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/netkit-dev/netkit/internal/udpbatch"
)

// PacketServer serves datagrams: it reads each one from the socket and
// hands it to Handler with the peer's address, on one goroutine per
// socket, so a handler sees datagrams in the order they arrived. It reads
// in batches (on Linux one recvmmsg a batch) and the replies that a
// batch's handlers write leave together (one sendmmsg) when the last of
// them returns; a reply the kernel refuses is logged, not returned by
// WriteTo.
type PacketServer struct {
	Handler PacketHandler
	// ReadBufferSize is the largest datagram read whole; a longer one is
	// truncated by the kernel and counted in Stats as Truncated. If zero,
	// 65535 bytes: every UDP datagram fits. A batch holds up to 32
	// buffers of this size, or as many as fit in 1 MiB.
	ReadBufferSize int
	// Logger logs errors. If nil, nothing is logged.
	Logger *slog.Logger

	packetsIn, packetsOut atomic.Uint64
	bytesIn, bytesOut     atomic.Uint64
	truncated             atomic.Uint64

	mu       sync.Mutex
	conns    map[net.PacketConn]struct{}
	shutdown bool
}

// PacketStats counts a PacketServer's datagrams.
type PacketStats struct {
	PacketsIn, PacketsOut uint64
	BytesIn, BytesOut     uint64
	// Truncated counts datagrams longer than the read buffer.
	Truncated uint64
}

// Stats returns the counters.
func (s *PacketServer) Stats() PacketStats {
	return PacketStats{
		PacketsIn: s.packetsIn.Load(), PacketsOut: s.packetsOut.Load(),
		BytesIn: s.bytesIn.Load(), BytesOut: s.bytesOut.Load(),
		Truncated: s.truncated.Load(),
	}
}

// Serve reads datagrams from pc until Shutdown (it returns nil) or ctx is
// cancelled (it returns ctx.Err()). It closes pc. pc must be a
// *net.UDPConn.
func (s *PacketServer) Serve(ctx context.Context, pc net.PacketConn) error {
	if s.Handler == nil {
		return ErrNoHandler
	}
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		pc.Close()
		return errors.New("server: PacketServer serves *net.UDPConn sockets")
	}
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		pc.Close()
		return ErrServerClosed
	}
	if s.conns == nil {
		s.conns = map[net.PacketConn]struct{}{}
	}
	s.conns[pc] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, pc)
		s.mu.Unlock()
		pc.Close()
	}()
	stop := context.AfterFunc(ctx, func() { pc.Close() })
	defer stop()

	cfg := udpbatch.Config{
		Slot: s.ReadBufferSize,
		Sent: func(packets, bytes int) {
			s.packetsOut.Add(uint64(packets))
			s.bytesOut.Add(uint64(bytes))
		},
		SendError: func(to netip.AddrPort, err error) {
			if s.Logger != nil {
				s.Logger.Warn("reply not sent", "to", to, "err", err)
			}
		},
	}
	err := udpbatch.Serve(ctx, uc, cfg, func(w *udpbatch.Writer, p []byte, from netip.AddrPort, truncated bool) {
		if truncated {
			s.truncated.Add(1)
			if s.Logger != nil {
				s.Logger.Warn("datagram truncated", "from", from, "buffer", len(p))
			}
		}
		s.packetsIn.Add(1)
		s.bytesIn.Add(uint64(len(p)))
		s.Handler.ServePacket(w, p, from)
	})
	s.mu.Lock()
	down := s.shutdown
	s.mu.Unlock()
	switch {
	case down:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return err
}

// Shutdown stops every Serve call. Datagrams are not connections: there is
// nothing to drain.
func (s *PacketServer) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	for pc := range s.conns {
		pc.Close()
	}
	s.mu.Unlock()
	return nil
}
