//go:build linux

package poll

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestWaitAndConnect(t *testing.T) {
	p, err := New(0)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	start := time.Now()
	evs, err := p.Wait(20 * time.Millisecond)
	if err != nil || len(evs) != 0 || time.Since(start) < 15*time.Millisecond {
		t.Fatalf("an idle wait returned %v, %v after %s", evs, err, time.Since(start))
	}
	if evs, err := p.Wait(0); err != nil || len(evs) != 0 {
		t.Fatalf("a zero wait: %v, %v", evs, err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	connect := func() int {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		err = unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}})
		if err != nil && err != unix.EINPROGRESS {
			t.Fatal(err)
		}
		if err := p.Add(fd, Out); err != nil {
			t.Fatal(err)
		}
		return fd
	}
	waitFor := func(fd int) {
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
			evs, err := p.Wait(100 * time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				if int(ev.Fd) == fd {
					return
				}
			}
		}
		t.Fatal("no event")
	}
	fd := connect()
	waitFor(fd)
	if err := ConnectResult(fd); err != nil {
		t.Errorf("a connect to a listener: %v", err)
	}
	if err := p.Mod(fd, In); err != nil {
		t.Error(err)
	}
	if err := p.Del(fd); err != nil {
		t.Error(err)
	}
	unix.Close(fd)

	l.Close() // now the port refuses
	fd = connect()
	waitFor(fd)
	if err := ConnectResult(fd); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("a connect to a closed port: %v", err)
	}
	unix.Close(fd)
}
