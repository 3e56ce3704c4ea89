package scan

import (
	"context"
	"net"
	"net/netip"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/internal/testutil"
)

// listeners opens n TCP listeners on random ports of addr inside ns and
// returns their ports, sorted.
func listeners(t *testing.T, ns *testutil.Netns, network, addr string, n int) []uint16 {
	t.Helper()
	var ports []uint16
	err := ns.Do(func() error {
		for range n {
			l, err := net.Listen(network, addr+":0")
			if err != nil {
				return err
			}
			t.Cleanup(func() { l.Close() })
			ports = append(ports, uint16(l.Addr().(*net.TCPAddr).Port))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ports)
	return ports
}

// scanIn scans inside ns and returns the open ports and the summary.
func scanIn(t *testing.T, ns *testutil.Netns, cfg Config, addr netip.Addr, ports []uint16) ([]uint16, Summary) {
	t.Helper()
	var open []uint16
	var mu sync.Mutex
	cfg.OnResult = func(r Result) {
		if r.State == Open {
			mu.Lock()
			open = append(open, r.Port)
			mu.Unlock()
		}
	}
	var sum Summary
	err := ns.Do(func() error {
		var err error
		sum, err = Scan(context.Background(), cfg, []netip.Addr{addr}, ports)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(open)
	return open, sum
}

// The open set equals the listeners exactly, over all 65,535 ports, at the
// default concurrency and at the highest the file limit allows.
func TestOpenSetIsTheListeners(t *testing.T) {
	ns := testutil.NewNetns(t)
	want := listeners(t, ns, "tcp4", "127.0.0.1", 40)
	for _, cfg := range []Config{{}, {Concurrency: 1 << 20}, {Workers: 1, Concurrency: 64, Shuffle: true}} {
		open, sum := scanIn(t, ns, cfg, netip.MustParseAddr("127.0.0.1"), AllPorts())
		if !slices.Equal(open, want) {
			t.Errorf("%+v: open %v, listeners %v", cfg, open, want)
		}
		if sum.Open != 40 || sum.Closed != 65535-40 || sum.Filtered != 0 || sum.LocalErrors != 0 {
			t.Errorf("%+v: summary %+v", cfg, sum)
		}
		t.Logf("concurrency %d (peak %d, file limit %d): %v", sum.Concurrency, sum.PeakFlight, sum.FileLimit, sum.Elapsed)
	}
}

func TestIPv6(t *testing.T) {
	ns := testutil.NewNetns(t)
	if strings.Contains(ns.Run(t, "ip", "-6", "addr", "show", "dev", "lo"), "::1") == false {
		t.Skip("no ::1 in the namespace")
	}
	want := listeners(t, ns, "tcp6", "[::1]", 5)
	open, _ := scanIn(t, ns, Config{}, netip.MustParseAddr("::1"), append(want, 1, 2, 3))
	if !slices.Equal(open, want) {
		t.Errorf("open %v, want %v", open, want)
	}
}

// A host that does not answer (no ARP reply on a veth) is filtered, after
// the retries; nothing is called closed.
func TestFiltered(t *testing.T) {
	a, b := testutil.NewNetns(t), testutil.NewNetns(t)
	testutil.Veth(t, a, netip.MustParsePrefix("192.0.2.1/24"), b, netip.MustParsePrefix("192.0.2.2/24"))
	_, sum := scanIn(t, a, Config{Timeout: 200 * time.Millisecond, Retries: 1}, netip.MustParseAddr("192.0.2.77"), []uint16{22, 80, 443})
	if sum.Filtered != 3 || sum.Closed != 0 || sum.Retries != 3 || sum.Attempts != 6 {
		t.Errorf("summary %+v; want 3 filtered after 3 retries", sum)
	}
	// The host that is there refuses: closed, quickly.
	_, sum = scanIn(t, a, Config{Timeout: 2 * time.Second}, netip.MustParseAddr("192.0.2.2"), []uint16{22, 80, 443})
	if sum.Closed != 3 {
		t.Errorf("live host: %+v", sum)
	}
}

func TestRateCapsAttempts(t *testing.T) {
	ns := testutil.NewNetns(t)
	start := time.Now()
	_, sum := scanIn(t, ns, Config{Rate: 200}, netip.MustParseAddr("127.0.0.1"), AllPorts()[:100])
	// 100 attempts at 200/s cannot take less than about half a second.
	if el := time.Since(start); el < 400*time.Millisecond || sum.Closed != 100 {
		t.Errorf("100 attempts at --rate 200 took %v: %+v", el, sum)
	}
}

func TestCancel(t *testing.T) {
	ns := testutil.NewNetns(t)
	a, b := ns, testutil.NewNetns(t)
	testutil.Veth(t, a, netip.MustParsePrefix("192.0.2.1/24"), b, netip.MustParsePrefix("192.0.2.2/24"))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var err error
	a.Do(func() error {
		_, err = Scan(ctx, Config{Timeout: 10 * time.Second}, []netip.Addr{netip.MustParseAddr("192.0.2.77")}, AllPorts()[:50])
		return nil
	})
	if err != context.DeadlineExceeded {
		t.Errorf("err = %v", err)
	}
}

// nmap -sT on the same namespace finds the same open ports.
func TestAgreesWithNmap(t *testing.T) {
	nmap := testutil.Program(t, "nmap")
	ns := testutil.NewNetns(t)
	want := listeners(t, ns, "tcp4", "127.0.0.1", 10)
	open, _ := scanIn(t, ns, Config{}, netip.MustParseAddr("127.0.0.1"), AllPorts())
	out, err := ns.Command(nmap, "-sT", "-p-", "-T4", "-n", "-oG", "-", "127.0.0.1").Output()
	if err != nil {
		t.Fatal(err)
	}
	var theirs []uint16
	for _, m := range regexp.MustCompile(`(\d+)/open/tcp`).FindAllStringSubmatch(string(out), -1) {
		p, _ := strconv.Atoi(m[1])
		theirs = append(theirs, uint16(p))
	}
	slices.Sort(theirs)
	if !slices.Equal(open, theirs) || !slices.Equal(open, want) {
		t.Errorf("netkit %v\nnmap   %v\nlisteners %v", open, theirs, want)
	}
	_ = exec.ErrNotFound
}

func TestBanners(t *testing.T) {
	ns := testutil.NewNetns(t)
	var addrs []netip.AddrPort
	err := ns.Do(func() error {
		for _, greet := range []string{"SSH-2.0-test\r\n", ""} {
			l, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				return err
			}
			t.Cleanup(func() { l.Close() })
			addrs = append(addrs, l.Addr().(*net.TCPAddr).AddrPort())
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					if greet != "" {
						c.Write([]byte(greet))
					} else { // an HTTP server: answers when asked
						buf := make([]byte, 512)
						n, _ := c.Read(buf)
						if strings.HasPrefix(string(buf[:n]), "HEAD / HTTP/1.0\r\n") {
							c.Write([]byte("HTTP/1.0 200 OK\r\nServer: test/1\r\n\r\n"))
						}
					}
					c.Close()
				}
			}()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	ns.Do(func() error {
		got = Banners(context.Background(), []BannerRequest{{addrs[0], false}, {addrs[1], true}}, 2, 2*time.Second)
		return nil
	})
	if len(got) != 2 || got[0] != "SSH-2.0-test" || got[1] != "HTTP/1.0 200 OK | Server: test/1" {
		t.Errorf("banners %q", got)
	}
}

// TestZoneIndex: an IPv6 zone names an interface; its index is looked up
// once and kept, and an unknown zone gives 0, as before the cache.
func TestZoneIndex(t *testing.T) {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skip("no lo interface:", err)
	}
	var w worker
	for range 2 {
		if got := w.zoneIndex(netip.MustParseAddr("fe80::1%lo")); got != uint32(lo.Index) {
			t.Fatalf("zone lo: index %d, want %d", got, lo.Index)
		}
	}
	if got := w.zoneIndex(netip.MustParseAddr("fe80::1%no-such-if")); got != 0 {
		t.Errorf("unknown zone: index %d, want 0", got)
	}
	if got := w.zoneIndex(netip.MustParseAddr("::1")); got != 0 {
		t.Errorf("no zone: index %d, want 0", got)
	}
	if len(w.zones) != 2 {
		t.Errorf("zones kept: %v, want lo and no-such-if", w.zones)
	}
}
