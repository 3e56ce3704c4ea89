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

// batchReader reads one datagram at a time.
type batchReader struct {
	pc  *net.UDPConn
	buf []byte
}

func newBatchReader(pc *net.UDPConn) *batchReader {
	return &batchReader{pc: pc, buf: make([]byte, 65536)}
}

func (r *batchReader) read(fn func(p []byte, from netip.AddrPort)) error {
	n, from, err := r.pc.ReadFromUDPAddrPort(r.buf)
	if err != nil {
		return err
	}
	fn(r.buf[:n], from)
	return nil
}
