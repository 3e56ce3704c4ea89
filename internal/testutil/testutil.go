// Package testutil holds the helpers that netkit's tests share: loopback
// listeners that clean up after themselves, a finder for the external peers
// that interop tests run (ncat, socat, dig, ...), and network namespaces
// with veth pairs for tests that need hosts of their own.
//
// Helpers that need something the machine may lack skip the test when it is
// missing, unless the matching variable demands it: NETKIT_REQUIRE_INTEROP=1
// for external programs, NETKIT_REQUIRE_NETNS=1 for namespaces. CI sets
// both, so there a missing peer fails instead of passing quietly.
package testutil

import (
	"context"
	"net"
	"os"
	"os/exec"
	"testing"

	"go.uber.org/goleak"
)

// RequireInterop reports whether tests must fail, not skip, when an
// external peer is missing.
func RequireInterop() bool { return os.Getenv("NETKIT_REQUIRE_INTEROP") == "1" }

// RequireNetns reports whether tests must fail, not skip, when network
// namespaces cannot be made.
func RequireNetns() bool { return os.Getenv("NETKIT_REQUIRE_NETNS") == "1" }

// Listen listens on a free port of the loopback address for network ("tcp",
// "tcp4" or "tcp6"; "" means "tcp4" on 127.0.0.1) and closes the listener
// when the test ends. It skips the test when the loopback family is missing.
func Listen(t testing.TB, network string) net.Listener {
	t.Helper()
	addr := loopback(t, network)
	if network == "" {
		network = "tcp4"
	}
	l, err := new(net.ListenConfig).Listen(context.Background(), network, addr)
	if err != nil {
		t.Fatalf("listen %s %s: %v", network, addr, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// ListenPacket is [Listen] for datagrams: "udp", "udp4" or "udp6".
func ListenPacket(t testing.TB, network string) net.PacketConn {
	t.Helper()
	addr := loopback(t, network)
	if network == "" {
		network = "udp4"
	}
	c, err := new(net.ListenConfig).ListenPacket(context.Background(), network, addr)
	if err != nil {
		t.Fatalf("listen %s %s: %v", network, addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func loopback(t testing.TB, network string) string {
	t.Helper()
	switch network {
	case "", "tcp", "tcp4", "udp", "udp4":
		return "127.0.0.1:0"
	case "tcp6", "udp6":
		if !HasIPv6Loopback() {
			t.Skip("no IPv6 loopback (::1) on this machine")
		}
		return "[::1]:0"
	}
	t.Fatalf("testutil: unknown network %q", network)
	return ""
}

// HasIPv6Loopback reports whether ::1 can be bound.
func HasIPv6Loopback() bool {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// Program returns the path of an external program the test needs. When it
// is missing the test is skipped, or fails under NETKIT_REQUIRE_INTEROP=1.
func Program(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if RequireInterop() {
			t.Fatalf("interop peer %s is not installed and NETKIT_REQUIRE_INTEROP=1 (.ci/run installs it)", name)
		}
		t.Skipf("interop peer %s is not installed (set NETKIT_REQUIRE_INTEROP=1 to make this a failure)", name)
	}
	return path
}

// CheckLeaks fails the test if goroutines started during it are still
// running after it, its cleanups included: call it first, so that its own
// cleanup runs last.
func CheckLeaks(t testing.TB) {
	t.Helper()
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		if err := goleak.Find(opt); err != nil {
			t.Errorf("goroutines leaked: %v", err)
		}
	})
}

// Serve runs serve in a goroutine with a context that ends with the test,
// then waits for it and fails the test if it returned an error.
func Serve(t testing.TB, serve func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
}
