package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/internal/testutil"
)

// echoTCP serves an echo on loopback, counting the connections it gets.
func echoTCP(t *testing.T) (addr string, accepted *atomic.Int64) {
	addr, accepted, _ = echoCounting(t)
	return addr, accepted
}

// echoCounting is echoTCP that also counts the connections that carried
// bytes (health checks carry none).
func echoCounting(t *testing.T) (addr string, accepted, carried *atomic.Int64) {
	l := testutil.Listen(t, "tcp4")
	accepted, carried = new(atomic.Int64), new(atomic.Int64)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			go func() {
				if n, _ := io.Copy(c, c); n > 0 {
					carried.Add(1)
				}
				c.Close()
			}()
		}
	}()
	return l.Addr().String(), accepted, carried
}

func echoUDP(t *testing.T) string {
	pc := testutil.ListenPacket(t, "udp4")
	go func() {
		buf := make([]byte, 2048)
		for {
			n, a, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:n], a)
		}
	}()
	return pc.LocalAddr().String()
}

// oneForward is a configuration of one forward, name, from listen to
// targets, with the default policy def, then more: the forward's other
// keys, then other tables (rules, timeouts).
func oneForward(def, proto, listen, name string, targets []string, more string) string {
	q := make([]string, len(targets))
	for i, t := range targets {
		q[i] = strconv.Quote(t)
	}
	return fmt.Sprintf("default = %q\n[[forward]]\nname = %q\nproto = %q\nlisten = %q\nto = [%s]\n%s",
		def, name, proto, listen, strings.Join(q, ", "), more)
}

// start runs a gateway for the test and returns it.
func start(t *testing.T, doc string) *Gateway {
	t.Helper()
	g, err := New(mustParse(t, doc), Options{})
	if err != nil {
		t.Fatal(err)
	}
	testutil.Serve(t, g.Serve)
	return g
}

func dialFrom(t *testing.T, src, dst string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	return d.Dial("tcp", dst)
}

// TestTCPRules: allowed flows are forwarded; denied ones are closed and
// rejected ones reset, and neither reaches the target.
func TestTCPRules(t *testing.T) {
	testutil.CheckLeaks(t)
	target, accepted := echoTCP(t)
	g := start(t, oneForward("deny", "tcp", "127.0.0.1:0", "echo", []string{target}, `
[[rule]]
action = "reject"
source = ["127.0.0.3"]
[[rule]]
action = "allow"
source = ["127.0.0.1"]
`))
	front, _ := g.Addr("echo")

	c, err := dialFrom(t, "127.0.0.1", front)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("hello"))
	got := make([]byte, 5)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "hello" {
		t.Fatalf("echo through the gateway: %q %v", got, err)
	}
	// The counters move once each splice returns, which may be after
	// the echo is back.
	waitFor(t, func() bool { f := g.Status().Flows; return len(f) == 1 && f[0].BytesIn == 5 && f[0].BytesOut == 5 })
	st := g.Status()
	if len(st.Flows) != 1 || st.Flows[0].Target != target || st.Flows[0].State != "established" || st.Flows[0].BytesIn != 5 || st.Flows[0].Rule != 2 {
		t.Errorf("flow table: %+v", st.Flows)
	}
	if st.Flows[0].PacketsIn == 0 {
		t.Errorf("no segments counted in: %+v", st.Flows[0])
	}
	c.(*net.TCPConn).CloseWrite()
	if rest, err := io.ReadAll(c); err != nil || len(rest) != 0 {
		t.Errorf("after half-close: %q %v", rest, err)
	}
	c.Close()

	// Denied: the connection opens (the handshake is the kernel's) and
	// closes without a byte; rejected: it is reset. The reset may come
	// before the dial has read the socket's state, and then the dial is
	// what reports it.
	for _, tc := range []struct {
		src     string
		wantErr error
	}{{"127.0.0.2", io.EOF}, {"127.0.0.3", syscall.ECONNRESET}} {
		c, err := dialFrom(t, tc.src, front)
		if err != nil && tc.wantErr == syscall.ECONNRESET && errors.Is(err, syscall.ECONNRESET) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = c.Read(make([]byte, 1))
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("from %s: read %v, want %v", tc.src, err, tc.wantErr)
		}
		c.Close()
	}
	waitFor(t, func() bool { return len(g.Status().Flows) == 0 })
	st = g.Status()
	if n := accepted.Load(); n != 1 {
		t.Errorf("the target saw %d connections, want the one allowed", n)
	}
	if st.Counters.Denied != 1 || st.Counters.Rejected != 1 || st.Counters.Opened != 1 || st.DefaultHits != 1 || st.Rules[0].Hits != 1 || st.Rules[1].Hits != 1 {
		t.Errorf("counters %+v, default %d, rules %+v", st.Counters, st.DefaultHits, st.Rules)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReload: a reload keeps the flows its rules allow and closes the
// ones they deny; a new forward listens and a dropped one stops.
func TestReload(t *testing.T) {
	testutil.CheckLeaks(t)
	target, _ := echoTCP(t)
	doc := func(allow string) string {
		return oneForward("deny", "tcp", "127.0.0.1:0", "echo", []string{target}, fmt.Sprintf("[[rule]]\naction = \"allow\"\nsource = [%q]\n", allow))
	}
	g := start(t, doc("127.0.0.0/8"))
	front, _ := g.Addr("echo")
	a, _ := dialFrom(t, "127.0.0.1", front)
	b, _ := dialFrom(t, "127.0.0.2", front)
	for _, c := range []net.Conn{a, b} {
		c.Write([]byte("x"))
		io.ReadFull(c, make([]byte, 1))
	}
	rep, err := g.Reload(mustParse(t, doc("127.0.0.1")))
	if err != nil || rep.Closed != 1 || rep.Kept != 1 {
		t.Fatalf("reload: %+v %v", rep, err)
	}
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := b.Read(make([]byte, 1)); err == nil {
		t.Error("the flow the new rules deny is still open")
	}
	a.Write([]byte("still here"))
	got := make([]byte, 10)
	if _, err := io.ReadFull(a, got); err != nil {
		t.Fatalf("the flow the new rules allow: %v", err)
	}
	if g.Status().Counters.ReloadClosed != 1 {
		t.Errorf("reload_closed = %d", g.Status().Counters.ReloadClosed)
	}
	// A file whose listener cannot bind is refused, and nothing changes.
	busy := testutil.Listen(t, "tcp4")
	bad := doc("127.0.0.1") + fmt.Sprintf("[[forward]]\nproto = \"tcp\"\nlisten = %q\nto = [%q]\n", busy.Addr(), target)
	if _, err := g.Reload(mustParse(t, bad)); err == nil {
		t.Error("a reload onto a busy port was taken")
	}
	a.Write([]byte("x"))
	if _, err := io.ReadFull(a, got[:1]); err != nil {
		t.Fatalf("after a refused reload: %v", err)
	}
	a.Close()
	b.Close()
}

// TestUDPMappings: a mapping per client endpoint, forgotten after the UDP
// timeout; a source's mappings capped.
func TestUDPMappings(t *testing.T) {
	testutil.CheckLeaks(t)
	target := echoUDP(t)
	g := start(t, oneForward("allow", "udp", "127.0.0.1:0", "dns", []string{target}, "max_mappings_per_source = 2\n[timeouts]\nudp = \"1s\"\n"))
	front, _ := g.Addr("dns")
	ask := func(c net.Conn, msg string, wait time.Duration) error {
		c.Write([]byte(msg))
		c.SetReadDeadline(time.Now().Add(wait))
		got := make([]byte, 100)
		n, err := c.Read(got)
		if err == nil && string(got[:n]) != msg {
			err = fmt.Errorf("got %q back", got[:n])
		}
		return err
	}
	var conns []net.Conn
	for i := range 3 {
		c, err := net.Dial("udp", front)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
		err = ask(c, fmt.Sprintf("query %d", i), 200*time.Millisecond)
		if i < 2 && err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		if i == 2 && err == nil {
			t.Fatal("a third mapping from one source went through max_mappings_per_source = 2")
		}
	}
	st := g.Status()
	if len(st.Flows) != 2 || st.Flows[0].State != "replied" || st.Flows[0].PacketsIn != 1 || st.Counters.Limited < 1 {
		t.Fatalf("flows %+v counters %+v", st.Flows, st.Counters)
	}
	start := time.Now()
	waitFor(t, func() bool { return len(g.Status().Flows) == 0 })
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Errorf("mappings forgotten after %s, well before the 1s timeout", d)
	}
	if err := ask(conns[2], "again", time.Second); err != nil {
		t.Errorf("after the others expired, the third client: %v", err)
	}
}

// TestProxyV2: the target gets the client's addresses first.
func TestProxyV2(t *testing.T) {
	l := testutil.Listen(t, "tcp4")
	got := make(chan []byte, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		b, _ := io.ReadAll(c)
		got <- b
		c.Close()
	}()
	g := start(t, oneForward("allow", "tcp", "127.0.0.1:0", "p", []string{l.Addr().String()}, "proxy_v2 = true\n"))
	front, _ := g.Addr("p")
	c, err := dialFrom(t, "127.0.0.9", front)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("payload"))
	c.(*net.TCPConn).CloseWrite()
	b := <-got
	c.Close()
	p, src, dst, n, err := ParseProxyV2(b)
	if err != nil {
		t.Fatal(err)
	}
	if p != TCP || src != c.LocalAddr().(*net.TCPAddr).AddrPort() || dst.String() != front || !bytes.Equal(b[n:], []byte("payload")) {
		t.Errorf("header says %s %s -> %s, then %q; the client was %s -> %s", p, src, dst, b[n:], c.LocalAddr(), front)
	}
}

// TestRunAdmin: Run serves the admin socket; reload reads the file again.
func TestRunAdmin(t *testing.T) {
	target, _ := echoTCP(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "gw.toml")
	write := func(def string) {
		doc := oneForward(def, "tcp", "127.0.0.1:0", "e", []string{target}, "")
		if err := writeFile(file, doc); err != nil {
			t.Fatal(err)
		}
	}
	write("allow")
	sock := filepath.Join(dir, "admin.sock")
	ready := make(chan *Gateway, 1)
	testutil.Serve(t, func(ctx context.Context) error {
		return Run(ctx, file, RunOptions{Admin: sock, Ready: func(g *Gateway) { ready <- g }})
	})
	<-ready
	ac := AdminClient{Path: sock}
	st, err := ac.Status(context.Background())
	if err != nil || st.Default != "allow" || len(st.Forwards) != 1 {
		t.Fatalf("status: %+v %v", st, err)
	}
	write("deny")
	if _, err := ac.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st, _ := ac.Status(context.Background()); st.Default != "deny" || st.Reloads != 1 {
		t.Errorf("after reload: default %s, reloads %d", st.Default, st.Reloads)
	}
	if err := writeFile(file, "default = 'nope'\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := ac.Reload(context.Background()); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Error("a bad file was reloaded")
	}
	if st, _ := ac.Status(context.Background()); st.Default != "deny" || st.Reloads != 1 {
		t.Errorf("after a refused reload: default %s, reloads %d", st.Default, st.Reloads)
	}
	if _, err := netip.ParseAddrPort(st.Forwards[0].Listen); err != nil {
		t.Errorf("listen %q", st.Forwards[0].Listen)
	}
}

func writeFile(name, doc string) error { return os.WriteFile(name, []byte(doc), 0o644) }

// TestBalanceAndHealth: round robin spreads flows over the targets; a
// target whose health check fails gets none until it answers again.
func TestBalanceAndHealth(t *testing.T) {
	testutil.CheckLeaks(t)
	a, _, aSeen := echoCounting(t)
	b, _, bSeen := echoCounting(t)
	dead := testutil.Listen(t, "tcp4")
	deadAddr := dead.Addr().String()
	dead.Close() // nothing listens there now
	g := start(t, oneForward("allow", "tcp", "127.0.0.1:0", "lb", []string{a, b, deadAddr}, "health_interval = \"50ms\"\n"))
	front, _ := g.Addr("lb")
	waitFor(t, func() bool {
		for _, fw := range g.Status().Forwards {
			for _, tg := range fw.Targets {
				if tg.Addr == deadAddr && !tg.Up {
					return true
				}
			}
		}
		return false
	})
	for range 10 {
		c, err := dialFrom(t, "127.0.0.1", front)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("x"))
		if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
			t.Fatalf("through the balancer: %v", err)
		}
		c.Close()
	}
	waitFor(t, func() bool { return aSeen.Load()+bSeen.Load() == 10 })
	if aSeen.Load() != 5 || bSeen.Load() != 5 {
		t.Errorf("round robin over two live targets gave %d and %d of 10", aSeen.Load(), bSeen.Load())
	}
	if st := g.Status(); st.Counters.DialFailed != 0 {
		t.Errorf("a flow was sent to the target that failed its health check: %+v", st.Counters)
	}
}

// TestRateLimitPerSource: a source over its rate is reset and counted;
// another source is not held back by it.
func TestRateLimitPerSource(t *testing.T) {
	testutil.CheckLeaks(t)
	target, _ := echoTCP(t)
	g := start(t, oneForward("allow", "tcp", "127.0.0.1:0", "r", []string{target}, "rate = 0.1\nburst = 3\n"))
	front, _ := g.Addr("r")
	try := func(src string) error {
		c, err := dialFrom(t, src, front)
		if err != nil {
			return err
		}
		defer c.Close()
		c.Write([]byte("x"))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = io.ReadFull(c, make([]byte, 1))
		return err
	}
	for i := range 3 {
		if err := try("127.0.0.1"); err != nil {
			t.Fatalf("flow %d within the burst: %v", i+1, err)
		}
	}
	if err := try("127.0.0.1"); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("the fourth flow within a second: %v, want a reset", err)
	}
	if err := try("127.0.0.5"); err != nil {
		t.Errorf("another source: %v", err)
	}
	if st := g.Status(); st.Counters.Limited != 1 {
		t.Errorf("limited = %d, want 1", st.Counters.Limited)
	}
}

// TestMappedSourceOnDualStack: a client that a dual-stack listener sees
// as ::ffff:127.0.0.1 is matched by an IPv4 rule.
func TestMappedSourceOnDualStack(t *testing.T) {
	if !testutil.HasIPv6Loopback() {
		t.Skip("no IPv6 loopback")
	}
	testutil.CheckLeaks(t)
	target, seen := echoTCP(t)
	g := start(t, oneForward("deny", "tcp", "[::]:0", "ds", []string{target}, "[[rule]]\naction = \"allow\"\nsource = [\"127.0.0.1\"]\n"))
	front, _ := g.Addr("ds")
	port := front[strings.LastIndexByte(front, ':')+1:]
	c, err := net.Dial("tcp4", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("x"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil || seen.Load() != 1 {
		t.Fatalf("an IPv4 client of a dual-stack listener, allowed by an IPv4 rule: %v (target saw %d)", err, seen.Load())
	}
	if st := g.Status(); len(st.Flows) != 1 || !strings.HasPrefix(st.Flows[0].Client, "[::ffff:127.0.0.1]:") || st.Flows[0].Rule != 1 {
		t.Errorf("flows %+v", st.Flows)
	}
}

// TestLeastConn: with one flow held open on a target, new flows go to the
// other.
func TestLeastConn(t *testing.T) {
	testutil.CheckLeaks(t)
	a, _, aSeen := echoCounting(t)
	b, _, bSeen := echoCounting(t)
	g := start(t, oneForward("allow", "tcp", "127.0.0.1:0", "lc", []string{a, b}, "balance = \"least-conn\"\n"))
	front, _ := g.Addr("lc")
	echo := func() net.Conn {
		c, err := dialFrom(t, "127.0.0.1", front)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("x"))
		if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
			t.Fatal(err)
		}
		return c
	}
	held := echo() // to the first target: both have none
	for range 3 {
		c := echo()
		c.Close()
		waitFor(t, func() bool { return len(g.Status().Flows) == 1 })
	}
	held.Close()
	waitFor(t, func() bool { return aSeen.Load()+bSeen.Load() == 4 })
	if aSeen.Load() != 1 || bSeen.Load() != 3 {
		t.Errorf("least-conn sent %d and %d flows, want 1 (held open) and 3", aSeen.Load(), bSeen.Load())
	}
}
