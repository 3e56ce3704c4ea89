//go:build unix

package httpwire

import "golang.org/x/sys/unix"

func peekFD(fd uintptr) peekResult {
	var b [1]byte
	n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return peekEmpty
	case err != nil, n == 0:
		return peekClosed
	}
	return peekData
}
