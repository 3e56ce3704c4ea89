//go:build linux && !(amd64 || arm64)

package rawsock

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// On the other Linux architectures the calls go through x/sys/unix (some
// multiplex the socket calls through socketcall); see raw_linux.go.

// Socket opens a non-blocking, close-on-exec socket.
func Socket(family, typ int) (int, error) {
	return unix.Socket(family, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
}

// Connect starts a connection to ap (zone is an IPv6 scope, or 0).
func Connect(fd int, ap netip.AddrPort, zone uint32) error {
	a := ap.Addr()
	if a.Is4() || a.Is4In6() {
		return unix.Connect(fd, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.Unmap().As4()})
	}
	return unix.Connect(fd, &unix.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16(), ZoneId: zone})
}

// SoError reads and clears the socket's pending error (SO_ERROR).
func SoError(fd int) (int, error) { return unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR) }

// Close closes fd.
func Close(fd int) { unix.Close(fd) }

// Read reads from fd into p.
func Read(fd int, p []byte) (int, error) { return unix.Read(fd, p) }

// Write writes p to fd.
func Write(fd int, p []byte) (int, error) { return unix.Write(fd, p) }

// EpollWaitNow returns the events ready now, without waiting.
func EpollWaitNow(epfd int, events []unix.EpollEvent) (int, error) {
	return unix.EpollWait(epfd, events, 0)
}

// Accept4 takes a connection from a listening socket; the new socket is
// non-blocking and close-on-exec.
func Accept4(fd int) (int, unix.Sockaddr, error) {
	return unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
}

// SetsockoptInt sets an integer socket option.
func SetsockoptInt(fd, level, opt, value int) error { return unix.SetsockoptInt(fd, level, opt, value) }

// EpollCtl adds, changes or removes fd in the epoll set epfd.
func EpollCtl(epfd, op, fd int, ev *unix.EpollEvent) error { return unix.EpollCtl(epfd, op, fd, ev) }
