//go:build linux && (amd64 || arm64)

package udpbatch

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is struct mmsghdr of 64-bit kernels.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

// Serve reads datagrams from uc in batches and calls h for each, until
// ctx ends (it returns nil) or the socket fails (it returns the error;
// after uc is closed that is net.ErrClosed). When ctx ends it sets a read
// deadline in the past on uc, to wake the read. Several goroutines may
// serve one socket, but they take turns: Go lets one read at a time.
//
// The socket stays non-blocking in Go's poller: a batch is read and sent
// with raw system calls (recvmmsg and sendmmsg with MSG_DONTWAIT, which
// never wait), and only when the socket is empty does the goroutine park
// in the poller. Raw calls skip the runtime's entersyscall, which would
// wake sysmon after every idle spell; a read that blocks in the kernel
// instead would have its P taken by sysmon after 20 µs, and the thread
// that hands it to then parks in epoll, where every datagram wakes it.
// Either way each batch pays context switches that NSD does not.
func Serve(ctx context.Context, uc *net.UDPConn, cfg Config, h Handler) error {
	rc, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var v6 bool
	err = rc.Control(func(fd uintptr) {
		if sa, err := unix.Getsockname(int(fd)); err == nil {
			_, v6 = sa.(*unix.SockaddrInet6)
		}
	})
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { uc.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	slot, batch := cfg.sizes()
	in := make([]mmsghdr, batch)
	inIov := make([]unix.Iovec, batch)
	names := make([][unix.SizeofSockaddrInet6]byte, batch)
	bufs := make([][]byte, batch)
	for i := range in {
		bufs[i] = make([]byte, slot)
		inIov[i].Base = &bufs[i][0]
		inIov[i].SetLen(slot)
		in[i].hdr.Iov = &inIov[i]
		in[i].hdr.SetIovlen(1)
		in[i].hdr.Name = &names[i][0]
	}
	s := &sender{rc: rc, v6: v6, cfg: &cfg, out: make([]mmsghdr, batch), iov: make([]unix.Iovec, batch), names: make([][unix.SizeofSockaddrInet6]byte, batch),
		dst: make([]netip.AddrPort, batch), size: make([]int, batch)}
	w := newWriter(batch, s.send)
	for {
		for i := range in {
			in[i].hdr.Namelen = unix.SizeofSockaddrInet6
			in[i].hdr.Flags = 0
		}
		var n int
		var serr syscall.Errno
		err := rc.Read(func(fd uintptr) bool {
			for {
				r, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&in[0])), uintptr(batch), unix.MSG_DONTWAIT, 0, 0)
				switch e {
				case unix.EINTR:
					continue
				case unix.EAGAIN:
					return false // empty: wait in the poller
				}
				n, serr = int(r), e
				return true
			}
		})
		if err == nil && serr != 0 {
			err = serr
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if errors.Is(err, unix.ECONNREFUSED) {
				continue // an ICMP error queued on the socket: read on
			}
			return err
		}
		for i := range n {
			from := sockaddrPort(names[i][:in[i].hdr.Namelen])
			h(w, bufs[i][:min(int(in[i].n), slot)], from, in[i].hdr.Flags&msgTrunc != 0)
		}
		w.Flush()
	}
}

// sender sends a Writer's queue with sendmmsg.
type sender struct {
	rc    syscall.RawConn
	v6    bool // the socket is AF_INET6: IPv4 peers go as mapped addresses
	cfg   *Config
	out   []mmsghdr
	iov   []unix.Iovec
	names [][unix.SizeofSockaddrInet6]byte
	dst   []netip.AddrPort
	size  []int
}

func (s *sender) send(w *Writer) {
	k := 0 // the replies that have an address of the socket's family
	for i := range w.n {
		o := &s.out[k].hdr
		nl, ok := putSockaddr(s.names[k][:], w.to[i], s.v6)
		if !ok {
			s.refused(w.to[i], syscall.EAFNOSUPPORT)
			continue
		}
		b := w.bufs[i]
		s.iov[k].Base = nil
		if cap(b) > 0 {
			s.iov[k].Base = &b[:1][0]
		}
		s.iov[k].SetLen(len(b))
		o.Iov, o.Name, o.Namelen = &s.iov[k], &s.names[k][0], nl
		o.SetIovlen(1)
		s.dst[k], s.size[k] = w.to[i], len(b)
		k++
	}
	w.n = 0
	for done := 0; done < k; {
		var sent int
		var serr syscall.Errno
		err := s.rc.Write(func(fd uintptr) bool {
			r, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&s.out[done])), uintptr(k-done), unix.MSG_DONTWAIT, 0, 0)
			if e == unix.EAGAIN {
				return false
			}
			sent, serr = int(r), e
			return true
		})
		if err != nil {
			for i := done; i < k; i++ {
				s.refused(s.dst[i], err)
			}
			return
		}
		if serr != 0 {
			// The first of the rest was refused (EHOSTUNREACH and the
			// like): skip it and send the others.
			s.refused(s.dst[done], serr)
			done++
			continue
		}
		if s.cfg.Sent != nil {
			bytes := 0
			for _, n := range s.size[done : done+sent] {
				bytes += n
			}
			s.cfg.Sent(sent, bytes)
		}
		done += sent
	}
}

func (s *sender) refused(to netip.AddrPort, err error) {
	if s.cfg.SendError != nil {
		s.cfg.SendError(to, err)
	}
}

// putSockaddr writes ap as a raw sockaddr for a socket of the family v6
// says, and returns its length; false if an IPv4 socket cannot reach ap.
func putSockaddr(b []byte, ap netip.AddrPort, v6 bool) (uint32, bool) {
	clear(b)
	a := ap.Addr()
	if !v6 {
		if !a.Unmap().Is4() {
			return 0, false
		}
		binary.NativeEndian.PutUint16(b, unix.AF_INET)
		binary.BigEndian.PutUint16(b[2:], ap.Port())
		a4 := a.Unmap().As4()
		copy(b[4:8], a4[:])
		return unix.SizeofSockaddrInet4, true
	}
	binary.NativeEndian.PutUint16(b, unix.AF_INET6)
	binary.BigEndian.PutUint16(b[2:], ap.Port())
	a16 := a.As16()
	copy(b[8:24], a16[:])
	if z := a.Zone(); z != "" {
		if ifi, err := net.InterfaceByName(z); err == nil {
			binary.NativeEndian.PutUint32(b[24:], uint32(ifi.Index))
		}
	}
	return unix.SizeofSockaddrInet6, a.IsValid()
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
