package tour

import (
	"net"

	"golang.org/x/sys/unix"
)

// tcpOptionBytes is the length of the options on the segments of c: 12
// when the kernel agreed on timestamps (RFC 7323), as Linux does by
// default, else 0.
func tcpOptionBytes(c net.Conn) int {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return 0
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	raw.Control(func(fd uintptr) {
		info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		if err == nil && info.Options&1 != 0 { // TCPI_OPT_TIMESTAMPS
			n = 12 // kind, length, two 4-byte stamps, and two NOPs to align
		}
	})
	return n
}
