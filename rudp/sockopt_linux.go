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

	"github.com/netkit-dev/netkit/internal/udpbuf"
)

// sizeBuffers asks for large socket buffers (package udpbuf) and turns
// on GRO.
func sizeBuffers(pc *net.UDPConn) {
	enableGRO(pc)
	udpbuf.Size(pc, socketBuffer)
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
