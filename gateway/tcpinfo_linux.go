package gateway

import (
	"net"

	"golang.org/x/sys/unix"
)

// tcpSegments returns the TCP segments c has received and sent, from the
// kernel's TCP_INFO: the packets of a flow whose bytes never enter user
// space.
func tcpSegments(c *net.TCPConn) (in, out uint64) {
	if c == nil {
		return 0, 0
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, 0
	}
	rc.Control(func(fd uintptr) {
		if ti, err := unix.GetsockoptTCPInfo(int(fd), unix.SOL_TCP, unix.TCP_INFO); err == nil {
			in, out = uint64(ti.Segs_in), uint64(ti.Segs_out)
		}
	})
	return in, out
}
