package rudp

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// Linux's UDP segmentation offload: one sendmsg carries many datagrams of
// one size (the last may be shorter), which the kernel (or the NIC)
// splits; generic receive offload hands many back in one recvmsg.
const (
	solUDP     = 17  // SOL_UDP
	udpSegment = 103 // UDP_SEGMENT
	udpGRO     = 104 // UDP_GRO
	maxGSOSegs = 64
	maxGSOLen  = 65000
)

// batchWriter sends datagrams to one peer, several at a time with GSO
// where the kernel takes it.
type batchWriter struct {
	pc      *net.UDPConn
	to      netip.AddrPort // zero on a connected socket
	noGSO   atomic.Bool
	scratch []byte
	oob     []byte
}

func newBatchWriter(pc *net.UDPConn, to netip.AddrPort) *batchWriter {
	w := &batchWriter{pc: pc, to: to, scratch: make([]byte, 0, maxGSOLen), oob: make([]byte, syscall.CmsgSpace(2))}
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&w.oob[0]))
	h.Level, h.Type = solUDP, udpSegment
	h.SetLen(syscall.CmsgLen(2))
	return w
}

func (w *batchWriter) one(b []byte, oob []byte) error {
	if w.to.IsValid() {
		_, _, err := w.pc.WriteMsgUDPAddrPort(b, oob, w.to)
		return err
	}
	_, _, err := w.pc.WriteMsgUDP(b, oob, nil)
	return err
}

// write sends bufs in order: runs of equal size go in one GSO send.
func (w *batchWriter) write(bufs [][]byte) error {
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	for i := 0; i < len(bufs); {
		size := len(bufs[i])
		j, total := i+1, size
		if !w.noGSO.Load() {
			for j < len(bufs) && j-i < maxGSOSegs && len(bufs[j]) <= size && total+len(bufs[j]) <= maxGSOLen {
				total += len(bufs[j])
				j++
				if len(bufs[j-1]) < size {
					break // a shorter one ends the run
				}
			}
		}
		if j-i == 1 {
			keep(w.one(bufs[i], nil))
			i = j
			continue
		}
		w.scratch = w.scratch[:0]
		for _, b := range bufs[i:j] {
			w.scratch = append(w.scratch, b...)
		}
		binary.NativeEndian.PutUint16(w.oob[syscall.CmsgLen(0):], uint16(size))
		if err := w.one(w.scratch, w.oob); err != nil {
			if errors.Is(err, syscall.EIO) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOPROTOOPT) || errors.Is(err, syscall.EOPNOTSUPP) {
				w.noGSO.Store(true) // no offload here: one at a time
				continue
			}
			keep(err)
		}
		i = j
	}
	return first
}

// enableGRO asks the kernel to coalesce received datagrams.
func enableGRO(pc *net.UDPConn) bool {
	rc, err := pc.SyscallConn()
	if err != nil {
		return false
	}
	ok := false
	rc.Control(func(fd uintptr) {
		ok = syscall.SetsockoptInt(int(fd), solUDP, udpGRO, 1) == nil
	})
	return ok
}

// readBatch reads one datagram, or several coalesced by GRO, and calls
// fn with each.
func readBatch(pc *net.UDPConn, buf, oob []byte, fn func(p []byte, from netip.AddrPort)) error {
	n, oobn, _, from, err := pc.ReadMsgUDPAddrPort(buf, oob)
	if err != nil {
		return err
	}
	seg := n
	if oobn > 0 {
		if msgs, err := syscall.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, m := range msgs {
				if m.Header.Level == solUDP && m.Header.Type == udpGRO && len(m.Data) >= 2 {
					if s := int(binary.NativeEndian.Uint16(m.Data)); s > 0 {
						seg = s
					}
				}
			}
		}
	}
	for off := 0; off < n; off += seg {
		fn(buf[off:min(off+seg, n)], from)
	}
	return nil
}

func oobSize() int { return syscall.CmsgSpace(4) }
