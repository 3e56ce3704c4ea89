//go:build !linux

package rudp

import (
	"net"
	"net/netip"
)

type batchWriter struct {
	pc *net.UDPConn
	to netip.AddrPort
}

func newBatchWriter(pc *net.UDPConn, to netip.AddrPort) *batchWriter {
	return &batchWriter{pc: pc, to: to}
}

func (w *batchWriter) write(bufs [][]byte) error {
	var first error
	for _, b := range bufs {
		var err error
		if w.to.IsValid() {
			_, err = w.pc.WriteToUDPAddrPort(b, w.to)
		} else {
			_, err = w.pc.Write(b)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

func enableGRO(*net.UDPConn) bool { return false }

func readBatch(pc *net.UDPConn, buf, oob []byte, fn func(p []byte, from netip.AddrPort)) error {
	n, from, err := pc.ReadFromUDPAddrPort(buf)
	if err != nil {
		return err
	}
	fn(buf[:n], from)
	return nil
}

func oobSize() int { return 0 }
