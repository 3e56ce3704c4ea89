package httpwire

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// lowWater keeps a socket's SO_RCVLOWAT at the size of the reads a body
// wants, so that the kernel wakes the reader once per batch of bytes
// rather than once per segment. It never asks for more than the body
// still has on the socket, so a read cannot wait for bytes that will not
// come, and never more than a quarter of the receive buffer, so that the
// kernel does not clamp the window to fit it (tcp_set_rcvlowat).
type lowWater struct {
	rc     syscall.RawConn
	target int  // the batch size wanted
	cur    int  // the value set; 1 is the kernel's default
	room   bool // the receive buffer has grown past 4*target
}

func newLowWater(sc syscall.Conn, target int) *lowWater {
	rc, err := sc.SyscallConn()
	if err != nil || target <= 1 {
		return nil
	}
	return &lowWater{rc: rc, target: target, cur: 1}
}

// before sets the low-water mark for a read when onSocket more body bytes
// are still to come from the socket.
func (w *lowWater) before(onSocket int64) {
	want := int(min(onSocket, int64(w.target)))
	if w.room && want == w.cur {
		return // the usual case in a long body: nothing to ask or set
	}
	w.rc.Control(func(fd uintptr) {
		if !w.room {
			rcvbuf, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
			if err != nil {
				rcvbuf = 0
			}
			if rcvbuf/4 >= w.target {
				w.room = true
			}
			want = min(want, rcvbuf/4)
		}
		want = max(want, 1)
		if want != w.cur && unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVLOWAT, want) == nil {
			w.cur = want
		}
	})
}

// reset puts the kernel's default back, before the connection reads the
// next response's head. It reports whether it could.
func (w *lowWater) reset() bool {
	if w.cur != 1 {
		w.rc.Control(func(fd uintptr) {
			if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVLOWAT, 1) == nil {
				w.cur = 1
			}
		})
	}
	return w.cur == 1
}
