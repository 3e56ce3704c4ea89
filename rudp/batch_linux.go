package rudp

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
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
		run := adjacent(bufs[i:j], total)
		if run == nil {
			w.scratch = w.scratch[:0]
			for _, b := range bufs[i:j] {
				w.scratch = append(w.scratch, b...)
			}
			run = w.scratch
		}
		binary.NativeEndian.PutUint16(w.oob[syscall.CmsgLen(0):], uint16(size))
		if err := w.one(run, w.oob); err != nil {
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

// adjacent returns bufs as one slice when each follows the one before in
// the same buffer (Conn.build leaves each slice's capacity running on
// to the buffer's end), else nil.
func adjacent(bufs [][]byte, total int) []byte {
	first := bufs[0]
	if cap(first) < total {
		return nil
	}
	off := 0
	for _, b := range bufs {
		if len(b) == 0 || &first[:off+1][off] != &b[0] {
			return nil
		}
		off += len(b)
	}
	return first[:total]
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

// readBatchLen is how many datagrams one recvmmsg may return; each
// buffer holds what GRO may coalesce (64 KiB).
const readBatchLen = 8

// batchReader reads several datagrams a system call with recvmmsg, each
// of which may be several coalesced by GRO.
type batchReader struct {
	rc    syscall.RawConn
	hdrs  [readBatchLen]unix.Mmsghdr
	iovs  [readBatchLen]unix.Iovec
	names [readBatchLen]unix.RawSockaddrInet6
	bufs  [readBatchLen][]byte
	oobs  [readBatchLen][]byte
}

func newBatchReader(pc *net.UDPConn) *batchReader {
	r := &batchReader{}
	r.rc, _ = pc.SyscallConn() // a *net.UDPConn always has one
	for i := range r.hdrs {
		r.bufs[i] = make([]byte, 65536)
		r.oobs[i] = make([]byte, syscall.CmsgSpace(4))
		r.iovs[i].Base = &r.bufs[i][0]
		r.iovs[i].SetLen(len(r.bufs[i]))
		h := &r.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.Iov = &r.iovs[i]
		h.Iovlen = 1
		h.Control = &r.oobs[i][0]
	}
	return r
}

// read waits for datagrams and calls fn with each, in order.
func (r *batchReader) read(fn func(p []byte, from netip.AddrPort)) error {
	n := 0
	var errno syscall.Errno
	err := r.rc.Read(func(fd uintptr) bool {
		for i := range r.hdrs {
			h := &r.hdrs[i].Hdr
			h.Namelen = uint32(unsafe.Sizeof(r.names[i]))
			h.SetControllen(len(r.oobs[i]))
			h.Flags = 0
		}
		for {
			m, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), readBatchLen, unix.MSG_DONTWAIT, 0, 0) // never waits: spare the runtime the entersyscall
			switch e {
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false // wait until the socket is readable
			}
			n, errno = int(m), e
			return true
		}
	})
	if err != nil {
		return err
	}
	if errno != 0 {
		return os.NewSyscallError("recvmmsg", errno)
	}
	for i := range n {
		h := &r.hdrs[i]
		size := int(h.Len)
		seg := size
		if msgs, err := syscall.ParseSocketControlMessage(r.oobs[i][:h.Hdr.Controllen]); err == nil {
			for _, m := range msgs {
				if m.Header.Level == solUDP && m.Header.Type == udpGRO && len(m.Data) >= 2 {
					if s := int(binary.NativeEndian.Uint16(m.Data)); s > 0 {
						seg = s
					}
				}
			}
		}
		from := sockaddrPort(&r.names[i])
		for off := 0; off < size; off += seg {
			fn(r.bufs[i][off:min(off+seg, size)], from)
		}
	}
	return nil
}

// sockaddrPort reads an IPv4 or IPv6 socket address.
func sockaddrPort(sa *unix.RawSockaddrInet6) netip.AddrPort {
	port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:])
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), port)
	case unix.AF_INET6:
		a := netip.AddrFrom16(sa.Addr)
		if sa.Scope_id != 0 {
			a = a.WithZone(strconv.FormatUint(uint64(sa.Scope_id), 10)) // the net package takes an index for a zone
		}
		return netip.AddrPortFrom(a, port)
	}
	return netip.AddrPort{}
}
