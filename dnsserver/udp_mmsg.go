//go:build linux && (amd64 || arm64)

package dnsserver

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On Linux the UDP loop reads and writes in batches: recvmmsg takes up to
// batchSize queries in one system call and sendmmsg sends their answers in
// another, which halves the kernel time per query under load. (The
// mmsghdr layout below is that of 64-bit kernels.)

const (
	batchSize = 32
	slotSize  = 4096 // a query larger than this is answered FORMERR
)

type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

type batch struct {
	in    [batchSize]mmsghdr
	out   [batchSize]mmsghdr
	inIov [batchSize]unix.Iovec
	oIov  [batchSize]unix.Iovec
	names [batchSize][unix.SizeofSockaddrInet6]byte
	bufs  [batchSize][]byte
	resp  [batchSize][]byte
}

func newBatch() *batch {
	b := &batch{}
	for i := range b.in {
		b.bufs[i] = make([]byte, slotSize)
		b.resp[i] = make([]byte, 0, 1500)
		b.inIov[i].Base = &b.bufs[i][0]
		b.inIov[i].SetLen(slotSize)
		b.in[i].hdr.Iov = &b.inIov[i]
		b.in[i].hdr.SetIovlen(1)
		b.in[i].hdr.Name = &b.names[i][0]
	}
	return b
}

func (s *Server) udpLoop(ctx context.Context, pc *net.UDPConn) error {
	rc, err := pc.SyscallConn()
	if err != nil {
		return err
	}
	// The socket blocks, and this goroutine keeps its thread: a wake-up
	// is one recvmmsg that returns with the first query (MSG_WAITFORONE)
	// and whatever else has arrived, with no trip through the poller.
	// A receive timeout bounds each wait, so the loop notices a cancelled
	// context or a closed socket.
	var cerr error
	err = rc.Control(func(fd uintptr) {
		tv := unix.NsecToTimeval(int64(200 * time.Millisecond))
		cerr = errors.Join(unix.SetNonblock(int(fd), false), unix.SetsockoptTimeval(int(fd), unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv))
	})
	if err != nil || cerr != nil {
		return errors.Join(err, cerr)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b := newBatch()
	for {
		for i := range b.in {
			b.in[i].hdr.Namelen = unix.SizeofSockaddrInet6
			b.in[i].hdr.Flags = 0
		}
		var n int
		var serr syscall.Errno
		err := rc.Read(func(fd uintptr) bool {
			r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.in[0])), batchSize, unix.MSG_WAITFORONE, 0, 0)
			if e == unix.EAGAIN || e == unix.EINTR {
				return true // the timeout: n stays 0
			}
			n, serr = int(r), e
			return true
		})
		if err == nil && serr != 0 {
			err = serr
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, unix.EINTR) || errors.Is(err, unix.ECONNREFUSED) {
				continue
			}
			return err
		}
		now := time.Now()
		sends := 0
		for i := range n {
			src := sockaddrPort(b.names[i][:b.in[i].hdr.Namelen])
			q := b.bufs[i][:b.in[i].n]
			var resp []byte
			if b.in[i].hdr.Flags&unix.MSG_TRUNC != 0 {
				resp = formErr(q) // longer than any query we read
			} else {
				resp = s.answerUDP(ctx, pc, q, src, now, b.resp[i][:0])
			}
			if resp == nil {
				continue
			}
			if cap(resp) > cap(b.resp[i]) {
				b.resp[i] = resp[:0] // keep the larger buffer
			}
			o := &b.out[sends]
			b.oIov[sends].Base = &resp[0]
			b.oIov[sends].SetLen(len(resp))
			o.hdr.Iov = &b.oIov[sends]
			o.hdr.SetIovlen(1)
			o.hdr.Name = &b.names[i][0]
			o.hdr.Namelen = b.in[i].hdr.Namelen
			sends++
		}
		for done := 0; done < sends; {
			var sent int
			var serr syscall.Errno
			err := rc.Write(func(fd uintptr) bool {
				r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.out[done])), uintptr(sends-done), unix.MSG_DONTWAIT, 0, 0)
				if e == unix.EAGAIN {
					return false
				}
				sent, serr = int(r), e
				return true
			})
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			if serr != 0 {
				// A peer that cannot be reached (EHOSTUNREACH and the
				// like): skip that answer.
				sent = 1
			}
			done += sent
		}
	}
}

// sockaddrPort reads a raw sockaddr_in or sockaddr_in6.
func sockaddrPort(sa []byte) netip.AddrPort {
	if len(sa) < 8 {
		return netip.AddrPort{}
	}
	port := binary.BigEndian.Uint16(sa[2:])
	switch binary.NativeEndian.Uint16(sa) {
	case unix.AF_INET:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(sa[4:8])), port)
	case unix.AF_INET6:
		if len(sa) >= 24 {
			return netip.AddrPortFrom(netip.AddrFrom16([16]byte(sa[8:24])), port)
		}
	}
	return netip.AddrPort{}
}
