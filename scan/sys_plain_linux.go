//go:build linux && !(amd64 || arm64)

package scan

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// On the other Linux architectures the socket calls go through x/sys/unix
// (some multiplex them through socketcall); see sys_raw_linux.go.

func socketNB(fam int) (int, error) {
	return unix.Socket(fam, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
}

func connectNB(fd int, a netip.Addr, port uint16, zone uint32) error {
	return unix.Connect(fd, sockaddr(a, port, zone))
}

func soError(fd int) (int, error) { return unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR) }

func closeFD(fd int) { unix.Close(fd) }

func sockaddr(a netip.Addr, port uint16, zone uint32) unix.Sockaddr {
	if a.Is4() || a.Is4In6() {
		return &unix.SockaddrInet4{Port: int(port), Addr: a.Unmap().As4()}
	}
	return &unix.SockaddrInet6{Port: int(port), Addr: a.As16(), ZoneId: zone}
}
