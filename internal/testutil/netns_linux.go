package testutil

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Netns is a network namespace that a test made and that is deleted when
// the test ends. It starts with its loopback interface up and nothing else.
type Netns struct {
	Name string
}

// NewNetns makes a network namespace for the test. Without root, or
// without the ip command, it skips the test (fails under
// NETKIT_REQUIRE_NETNS=1).
func NewNetns(t testing.TB) *Netns {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if RequireNetns() {
			t.Fatalf("%s, and NETKIT_REQUIRE_NETNS=1", msg)
		}
		t.Skipf("%s (set NETKIT_REQUIRE_NETNS=1 to make this a failure)", msg)
	}
	if os.Geteuid() != 0 {
		unavailable("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		unavailable("network namespaces need the ip command (iproute2)")
	}
	var b [4]byte
	rand.Read(b[:])
	n := &Netns{Name: "nktest-" + hex.EncodeToString(b[:])}
	if out, err := exec.Command("ip", "netns", "add", n.Name).CombinedOutput(); err != nil {
		unavailable("ip netns add: %v: %s", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", n.Name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", n.Name, err, out)
		}
	})
	n.Run(t, "ip", "link", "set", "lo", "up")
	return n
}

// Command returns a command that runs name with args inside the namespace.
func (n *Netns) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// Run runs a command inside the namespace and returns its standard output;
// the test fails if it exits non-zero.
func (n *Netns) Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	cmd := n.Command(name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("in netns %s: %s %s: %v: %s", n.Name, name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// Do runs fn on an OS thread that has entered the namespace. Sockets that
// fn opens belong to the namespace for their whole life, and may be used
// from any goroutine after Do returns; goroutines that fn starts do not run
// in the namespace.
func (n *Netns) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		target, err := os.Open("/run/netns/" + n.Name)
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", n.Name, err)
			return
		}
		defer func() {
			// A thread that cannot go back stays locked, and so dies
			// with this goroutine instead of serving others.
			if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
				runtime.UnlockOSThread()
			}
		}()
		errc <- fn()
	}()
	return <-errc
}

// Veth joins two namespaces with a veth pair, gives each end an address
// (with its prefix length, such as 192.0.2.1/24) and brings both up. It
// returns the interface names inside a and b.
func Veth(t testing.TB, a *Netns, aAddr netip.Prefix, b *Netns, bAddr netip.Prefix) (aIf, bIf string) {
	t.Helper()
	var r [3]byte
	rand.Read(r[:])
	id := hex.EncodeToString(r[:])
	aIf, bIf = "nka"+id, "nkb"+id
	if out, err := exec.Command("ip", "link", "add", aIf, "type", "veth", "peer", "name", bIf).CombinedOutput(); err != nil {
		t.Fatalf("ip link add veth: %v: %s", err, out)
	}
	for _, end := range []struct {
		ns   *Netns
		name string
		addr netip.Prefix
	}{{a, aIf, aAddr}, {b, bIf, bAddr}} {
		if out, err := exec.Command("ip", "link", "set", end.name, "netns", end.ns.Name).CombinedOutput(); err != nil {
			t.Fatalf("ip link set %s netns %s: %v: %s", end.name, end.ns.Name, err, out)
		}
		args := []string{"addr", "add", end.addr.String(), "dev", end.name}
		if end.addr.Addr().Is6() {
			args = append(args, "nodad")
		}
		end.ns.Run(t, "ip", args...)
		end.ns.Run(t, "ip", "link", "set", end.name, "up")
	}
	return aIf, bIf
}
