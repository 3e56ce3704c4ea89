package rudp

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// sizeBuffers asks for large socket buffers: SO_RCVBUFFORCE and
// SO_SNDBUFFORCE pass net.core.rmem_max when the process may (root or
// CAP_NET_ADMIN); otherwise the plain options get what the limit allows.
func sizeBuffers(pc *net.UDPConn) {
	rc, err := pc.SyscallConn()
	if err != nil {
		return
	}
	enableGRO(pc)
	rc.Control(func(fd uintptr) {
		for _, o := range [][2]int{{syscall.SO_RCVBUFFORCE, syscall.SO_RCVBUF}, {syscall.SO_SNDBUFFORCE, syscall.SO_SNDBUF}} {
			if syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, o[0], socketBuffer) != nil {
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, o[1], socketBuffer)
			}
		}
	})
}

// kernelDrops reads how many datagrams the kernel dropped because the
// socket's receive buffer was full: the drops column of /proc/net/udp
// for the socket's inode. These are this host's losses, not the path's.
func kernelDrops(pc *net.UDPConn) uint64 {
	rc, err := pc.SyscallConn()
	if err != nil {
		return 0
	}
	var inode string
	rc.Control(func(fd uintptr) {
		link, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
		if err == nil {
			inode = strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")
		}
	})
	if inode == "" {
		return 0
	}
	for _, file := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		f, err := os.Open(file)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) >= 13 && fields[9] == inode {
				f.Close()
				n, _ := strconv.ParseUint(fields[len(fields)-1], 10, 64)
				return n
			}
		}
		f.Close()
	}
	return 0
}

func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
