//go:build linux && (amd64 || arm64)

package rawsock

import (
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Socket opens a non-blocking, close-on-exec socket.
func Socket(family, typ int) (int, error) {
	fd, _, e := syscall.RawSyscall(unix.SYS_SOCKET, uintptr(family), uintptr(typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC), 0)
	if e != 0 {
		return -1, e
	}
	return int(fd), nil
}

// Connect starts a connection to ap (zone is an IPv6 scope, or 0). On a
// non-blocking socket it returns EINPROGRESS unless the connection was made
// or refused at once.
func Connect(fd int, ap netip.AddrPort, zone uint32) error {
	var e syscall.Errno
	a, port := ap.Addr(), ap.Port()
	if a.Is4() || a.Is4In6() {
		sa := unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.Unmap().As4()}
		*(*[2]byte)(unsafe.Pointer(&sa.Port)) = [2]byte{byte(port >> 8), byte(port)}
		_, _, e = syscall.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
	} else {
		sa := unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: a.As16(), Scope_id: zone}
		*(*[2]byte)(unsafe.Pointer(&sa.Port)) = [2]byte{byte(port >> 8), byte(port)}
		_, _, e = syscall.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
	}
	if e != 0 {
		return e
	}
	return nil
}

// SoError reads and clears the socket's pending error (SO_ERROR).
func SoError(fd int) (int, error) {
	var v int32
	l := uint32(unsafe.Sizeof(v))
	_, _, e := syscall.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_ERROR,
		uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return 0, e
	}
	return int(v), nil
}

// Close closes fd.
func Close(fd int) { syscall.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0) }

// Read reads from fd into p.
func Read(fd int, p []byte) (int, error) { return rawIO(unix.SYS_READ, fd, p) }

// Write writes p to fd.
func Write(fd int, p []byte) (int, error) { return rawIO(unix.SYS_WRITE, fd, p) }

func rawIO(trap uintptr, fd int, p []byte) (int, error) {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	n, _, e := syscall.RawSyscall(trap, uintptr(fd), uintptr(ptr), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// EpollWaitNow returns the events ready now, without waiting.
func EpollWaitNow(epfd int, events []unix.EpollEvent) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// Accept4 takes a connection from a listening socket; the new socket is
// non-blocking and close-on-exec.
func Accept4(fd int) (int, unix.Sockaddr, error) {
	var rsa unix.RawSockaddrAny
	l := uint32(unix.SizeofSockaddrAny)
	nfd, _, e := syscall.RawSyscall6(unix.SYS_ACCEPT4, uintptr(fd), uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&l)),
		unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	if e != 0 {
		return -1, nil, e
	}
	return int(nfd), sockaddr(&rsa, l), nil
}

func sockaddr(rsa *unix.RawSockaddrAny, l uint32) unix.Sockaddr {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		p := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		pp := (*[2]byte)(unsafe.Pointer(&p.Port))
		return &unix.SockaddrInet4{Port: int(pp[0])<<8 | int(pp[1]), Addr: p.Addr}
	case unix.AF_INET6:
		p := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		pp := (*[2]byte)(unsafe.Pointer(&p.Port))
		return &unix.SockaddrInet6{Port: int(pp[0])<<8 | int(pp[1]), Addr: p.Addr, ZoneId: p.Scope_id}
	case unix.AF_UNIX:
		p := (*unix.RawSockaddrUnix)(unsafe.Pointer(rsa))
		n := int(l) - int(unsafe.Offsetof(p.Path))
		n = max(min(n, len(p.Path)), 0)
		for i := 0; i < n; i++ {
			if p.Path[i] == 0 && i > 0 { // an abstract name starts with NUL
				n = i
				break
			}
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(p.Path[i])
		}
		if n > 0 && b[0] == 0 {
			b[0] = '@'
		}
		return &unix.SockaddrUnix{Name: string(b)}
	}
	return nil
}

// SetsockoptInt sets an integer socket option.
func SetsockoptInt(fd, level, opt, value int) error {
	v := int32(value)
	_, _, e := syscall.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt), uintptr(unsafe.Pointer(&v)), 4, 0)
	if e != 0 {
		return e
	}
	return nil
}

// EpollCtl adds, changes or removes fd in the epoll set epfd.
func EpollCtl(epfd, op, fd int, ev *unix.EpollEvent) error {
	_, _, e := syscall.RawSyscall6(unix.SYS_EPOLL_CTL, uintptr(epfd), uintptr(op), uintptr(fd), uintptr(unsafe.Pointer(ev)), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
