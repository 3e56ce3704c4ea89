// Package poll is the one epoll loop core that netkit's event-driven code
// shares: the connect scanner, the echo load generator and the event-loop
// server engine. A Poller owns an epoll instance and its event buffer,
// registers descriptors through raw system calls (package rawsock), and
// waits with one strategy: look first without sleeping, in a raw call the
// Go runtime does not hear of (under load something is nearly always
// ready), and sleep in epoll_wait only when nothing is.
package poll

import (
	"fmt"
	"time"

	"github.com/netkit-dev/netkit/internal/rawsock"
	"golang.org/x/sys/unix"
)

// The event bits callers combine.
const (
	In     = unix.EPOLLIN
	Out    = unix.EPOLLOUT
	RdHup  = unix.EPOLLRDHUP
	Hup    = unix.EPOLLHUP
	Err    = unix.EPOLLERR
	Edge   = unix.EPOLLET
	Exclus = unix.EPOLLEXCLUSIVE

	// Closing is any sign that the peer is gone or the socket failed.
	Closing = RdHup | Hup | Err
)

// Event is one ready descriptor.
type Event = unix.EpollEvent

// Poller is one epoll instance. It is used from one goroutine (the
// loop's), except Add, Mod and Del, which the kernel serializes.
type Poller struct {
	fd     int
	events []Event
}

// New opens a poller that reports up to batch events per Wait (256 if
// zero).
func New(batch int) (*Poller, error) {
	if batch <= 0 {
		batch = 256
	}
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("poll: epoll_create1: %w", err)
	}
	return &Poller{fd: fd, events: make([]Event, batch)}, nil
}

// Add watches fd for events.
func (p *Poller) Add(fd int, events uint32) error {
	return rawsock.EpollCtl(p.fd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: events, Fd: int32(fd)})
}

// Mod changes the events watched on fd.
func (p *Poller) Mod(fd int, events uint32) error {
	return rawsock.EpollCtl(p.fd, unix.EPOLL_CTL_MOD, fd, &unix.EpollEvent{Events: events, Fd: int32(fd)})
}

// Del stops watching fd. Closing fd does the same, without a system call,
// when no other descriptor refers to its socket.
func (p *Poller) Del(fd int) error {
	return rawsock.EpollCtl(p.fd, unix.EPOLL_CTL_DEL, fd, &unix.EpollEvent{})
}

// Wait returns the events ready now or, when none is, sleeps until one
// is, for at most timeout: zero looks without sleeping, a negative timeout
// sleeps until an event, and a positive one is rounded up to whole
// milliseconds (epoll's unit), so that a short wait never becomes a busy
// loop. An interrupted wait returns no events and no error. The slice is
// reused by the next Wait.
func (p *Poller) Wait(timeout time.Duration) ([]Event, error) {
	n, err := rawsock.EpollWaitNow(p.fd, p.events)
	if n == 0 && err == nil && timeout != 0 {
		ms := -1
		if timeout > 0 {
			ms = int((timeout + time.Millisecond - 1) / time.Millisecond)
		}
		n, err = unix.EpollWait(p.fd, p.events, ms)
	}
	if err == unix.EINTR {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("poll: epoll_wait: %w", err)
	}
	return p.events[:n], nil
}

// Close closes the epoll instance.
func (p *Poller) Close() error { return unix.Close(p.fd) }

// ConnectResult reports how a non-blocking connect on fd ended, once the
// poller has said fd is writable: nil when connected, else the errno
// (ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ...).
func ConnectResult(fd int) error {
	e, err := rawsock.SoError(fd)
	if err != nil {
		return err
	}
	if e != 0 {
		return unix.Errno(e)
	}
	return nil
}
