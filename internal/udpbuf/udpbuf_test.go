package udpbuf

import (
	"net"
	"runtime"
	"syscall"
	"testing"
)

func TestSize(t *testing.T) {
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	rc, _ := pc.SyscallConn()
	get := func() (r int) {
		rc.Control(func(fd uintptr) { r, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF) })
		return r
	}
	before := get()
	Size(pc, 4<<20)
	after := get()
	if after < before {
		t.Fatalf("SO_RCVBUF went from %d to %d", before, after)
	}
	// As root on Linux the FORCE option passes rmem_max: the kernel
	// doubles what it is given, for its bookkeeping.
	if runtime.GOOS == "linux" && syscall.Geteuid() == 0 && after < 4<<20 {
		t.Errorf("as root, SO_RCVBUF is %d after asking for 4 MiB", after)
	}
}
