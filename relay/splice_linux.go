package relay

import (
	"errors"
	"io"
	"net"
	"sync"
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
	const flags = unix.SPLICE_F_MOVE | unix.SPLICE_F_NONBLOCK
	// The pipe is held only while bytes pass through it: taken when the
	// socket has something to read, given back once it is empty again, so
	// an idle connection holds two descriptors (its sockets), not six.
	var p *pipe
	defer func() {
		if p != nil {
			p.close() // it may hold bytes: not fit for another connection
		}
	}()
	for {
		// Socket to pipe. The pipe is empty here, so EAGAIN means the
		// socket has nothing to read: give the pipe back and wait.
		var n int
		var serr error
		rerr := srcRC.Read(func(fd uintptr) bool {
			if p == nil {
				if p, serr = getPipe(); serr != nil {
					return true
				}
			}
			for {
				var n64 int64
				n64, serr = unix.Splice(int(fd), nil, p.w, nil, p.size, flags)
				n = int(n64)
				if serr != unix.EINTR {
					break
				}
			}
			if serr == unix.EAGAIN {
				putPipe(p)
				p = nil
				return false
			}
			return true
		})
		if rerr != nil {
			return rerr
		}
		if serr != nil {
			return &net.OpError{Op: "splice", Net: "tcp", Err: serr}
		}
		if n == 0 {
			putPipe(p)
			p = nil
			return nil // EOF
		}
		// Pipe to socket, all of it. EAGAIN means the socket's send
		// buffer is full: wait for room.
		for left := n; left > 0; {
			var m int
			werr := dstRC.Write(func(fd uintptr) bool {
				for {
					var m64 int64
					m64, serr = unix.Splice(p.r, nil, int(fd), nil, left, flags)
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
		putPipe(p) // empty again
		p = nil
		moved(n)
	}
}

// pipe is a pipe for splice, its capacity raised.
type pipe struct {
	r, w int
	size int
}

func (p *pipe) close() {
	unix.Close(p.r)
	unix.Close(p.w)
}

// idlePipes keeps a few empty pipes for the next transfers, so that a
// pipe is not made and closed for every chunk.
var idlePipes struct {
	sync.Mutex
	list []*pipe
}

const maxIdlePipes = 64

func getPipe() (*pipe, error) {
	idlePipes.Lock()
	if n := len(idlePipes.list); n > 0 {
		p := idlePipes.list[n-1]
		idlePipes.list = idlePipes.list[:n-1]
		idlePipes.Unlock()
		return p, nil
	}
	idlePipes.Unlock()
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, err
	}
	p := &pipe{r: fds[0], w: fds[1], size: 64 << 10} // the default capacity
	if got, err := unix.FcntlInt(uintptr(p.w), unix.F_SETPIPE_SZ, pipeSize); err == nil {
		p.size = got
	}
	return p, nil
}

// putPipe keeps an empty pipe for later, or closes it.
func putPipe(p *pipe) {
	idlePipes.Lock()
	if len(idlePipes.list) < maxIdlePipes {
		idlePipes.list = append(idlePipes.list, p)
		idlePipes.Unlock()
		return
	}
	idlePipes.Unlock()
	p.close()
}

// IdlePipes returns how many pipes the relay keeps open for later
// splices (two file descriptors each, at most 64 pipes), so that a count
// of a process's open files can tell them from a leak.
func IdlePipes() int {
	idlePipes.Lock()
	defer idlePipes.Unlock()
	return len(idlePipes.list)
}
