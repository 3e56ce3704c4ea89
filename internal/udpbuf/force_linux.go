package udpbuf

import (
	"net"
	"syscall"
)

// force sets both buffers with the FORCE options; false if either was
// refused (and the plain options are then to be tried).
func force(pc *net.UDPConn, n int) bool {
	rc, err := pc.SyscallConn()
	if err != nil {
		return false
	}
	ok := true
	rc.Control(func(fd uintptr) {
		for _, o := range []int{syscall.SO_RCVBUFFORCE, syscall.SO_SNDBUFFORCE} {
			if syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, o, n) != nil {
				ok = false
			}
		}
	})
	return ok
}
