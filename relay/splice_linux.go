package relay

import (
	"errors"
	"io"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// pipeSize is the pipe capacity asked for: each splice moves up to this
// much. Linux allows 1 MiB to unprivileged users by default.
const pipeSize = 1 << 20

// canSplice reports whether both ends are TCP sockets. Unix sockets are
// left to the copy path: a splice from a pipe into a Unix stream socket
// can fail with EAGAIN while poll reports the socket writable, which would
// wait forever.
func canSplice(a, b io.ReadWriteCloser) bool {
	_, ok1 := a.(*net.TCPConn)
	_, ok2 := b.(*net.TCPConn)
	return ok1 && ok2
}

// spliceCopy moves src to dst through a pipe with splice(2): socket to
// pipe, pipe to socket, the bytes never copied to user space. Both must be
// syscall.Conn (canSplice checked). It returns nil at EOF.
func spliceCopy(dst io.Writer, src io.Reader, moved func(int)) error {
	srcRC, err := src.(syscall.Conn).SyscallConn()
	if err != nil {
		return err
	}
	dstRC, err := dst.(syscall.Conn).SyscallConn()
	if err != nil {
		return err
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return &net.OpError{Op: "pipe", Err: err}
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	size := pipeSize
	if got, err := unix.FcntlInt(uintptr(p[1]), unix.F_SETPIPE_SZ, pipeSize); err != nil {
		size = 64 << 10 // the default capacity
	} else {
		size = got
	}
	const flags = unix.SPLICE_F_MOVE | unix.SPLICE_F_NONBLOCK
	for {
		// Socket to pipe. The pipe is empty here, so EAGAIN means the
		// socket has nothing to read: wait for it.
		var n int
		var serr error
		rerr := srcRC.Read(func(fd uintptr) bool {
			for {
				var n64 int64
				n64, serr = unix.Splice(int(fd), nil, p[1], nil, size, flags)
				n = int(n64)
				if serr != unix.EINTR {
					return serr != unix.EAGAIN
				}
			}
		})
		if rerr != nil {
			return rerr
		}
		if serr != nil {
			return &net.OpError{Op: "splice", Net: "tcp", Err: serr}
		}
		if n == 0 {
			return nil // EOF
		}
		// Pipe to socket, all of it. EAGAIN means the socket's send
		// buffer is full: wait for room.
		for left := n; left > 0; {
			var m int
			werr := dstRC.Write(func(fd uintptr) bool {
				for {
					var m64 int64
					m64, serr = unix.Splice(p[0], nil, int(fd), nil, left, flags)
					m = int(m64)
					if serr != unix.EINTR {
						return serr != unix.EAGAIN
					}
				}
			})
			if werr != nil {
				return werr
			}
			if serr != nil {
				return &net.OpError{Op: "splice", Net: "tcp", Err: serr}
			}
			if m == 0 {
				return errors.New("relay: splice to the socket moved nothing")
			}
			left -= m
		}
		moved(n)
	}
}
