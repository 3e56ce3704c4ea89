// Package servertest is the conformance suite for server engines. Every
// engine that runs a server.Handler must pass [Run]; the goroutine engine
// and the event loop both do. [RunPacket] checks a server.PacketServer.
//
// The suite checks every inetd service byte for byte, datagram boundaries,
// half-close in both directions, data that arrives with the FIN, many
// concurrent clients each verifying a large echo by SHA-256, the limits,
// the idle timeout, a Shutdown that drains without cutting a reply, the
// counters, and that no goroutine outlives the server.
package servertest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/inetd"
	"github.com/netkit-dev/netkit/internal/testutil"
	"github.com/netkit-dev/netkit/server"
)

// Engine is what the suite needs of a server engine.
type Engine interface {
	Serve(ctx context.Context, l net.Listener) error
	Shutdown(ctx context.Context) error
	Stats() server.Stats
}

// Factory makes an engine that serves h with cfg.
type Factory func(cfg server.Config, h server.Handler) Engine

// Clients is how many concurrent clients the load test runs: 1000, or
// NETKIT_CONFORMANCE_CLIENTS, or 100 with -short.
func Clients() int {
	if s := os.Getenv("NETKIT_CONFORMANCE_CLIENTS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	if testing.Short() {
		return 100
	}
	return 1000
}

// Start serves h with an engine from newEngine on a loopback port and
// returns the address. The engine is shut down, and Serve must have
// returned, when the test ends.
func Start(t testing.TB, newEngine Factory, cfg server.Config, h server.Handler) (Engine, string) {
	t.Helper()
	eng := newEngine(cfg, h)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- eng.Serve(context.Background(), l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := eng.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve returned %v after Shutdown, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after Shutdown")
		}
	})
	return eng, l.Addr().String()
}

func dial(t testing.TB, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp4", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(60 * time.Second))
	return c.(*net.TCPConn)
}

// leakCheck fails the test if goroutines started during it outlive it. It
// runs after every other cleanup, so after the engine's Shutdown.
func leakCheck(t *testing.T) { testutil.CheckLeaks(t) }

// Run runs the whole conformance suite against engines from newEngine.
func Run(t *testing.T, newEngine Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, Factory)
	}{
		{"echo/exact", testEcho},
		{"discard", testDiscard},
		{"daytime", testDaytime},
		{"time", testTime},
		{"chargen", testChargen},
		{"qotd", testQOTD},
		{"hello", testHello},
		{"chat", testChat},
		{"half-close/server", testServerHalfClose},
		{"data-with-fin", testDataWithFIN},
		{"concurrent", testConcurrent},
		{"idle-timeout", testIdle},
		{"shutdown-drains", testShutdownDrains},
		{"max-conns", testMaxConns},
		{"max-conns-per-ip", testMaxConnsPerIP},
		{"filter", testFilter},
		{"stats", testStats},
		{"write-from-other-goroutine", testForeignWrite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leakCheck(t)
			tt.fn(t, newEngine)
		})
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func testEcho(t *testing.T, f Factory) {
	_, addr := Start(t, f, server.Config{}, inetd.Echo{})
	for _, size := range []int{1, 100, 4096, 65537, 1 << 20} {
		c := dial(t, addr)
		want := randomBytes(size)
		go func() {
			c.Write(want)
			c.CloseWrite() // half-close: the echo must still come back whole
		}()
		got, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("size %d: echoed %d bytes that differ from the %d sent", size, len(got), len(want))
		}
	}
}

func testDiscard(t *testing.T, f Factory) {
	eng, addr := Start(t, f, server.Config{}, inetd.Discard{})
	c := dial(t, addr)
	const n = 1 << 20
	if _, err := c.Write(randomBytes(n)); err != nil {
		t.Fatal(err)
	}
	c.CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil || len(got) != 0 {
		t.Fatalf("discard answered %d bytes, %v", len(got), err)
	}
	waitFor(t, "discard to count its input", func() bool { return eng.Stats().BytesIn == n })
}

func testDaytime(t *testing.T, f Factory) {
	_, addr := Start(t, f, server.Config{}, &inetd.Daytime{})
	c := dial(t, addr)
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	line, ok := strings.CutSuffix(string(got), "\r\n")
	if !ok {
		t.Fatalf("daytime %q does not end in CRLF", got)
	}
	when, err := time.Parse(inetd.DaytimeFormat, line)
	if err != nil {
		t.Fatalf("daytime %q: %v", line, err)
	}
	if d := time.Since(when); d < -2*time.Second || d > 5*time.Second {
		t.Errorf("daytime says %v, %v from now", when, d)
	}
}

func testTime(t *testing.T, f Factory) {
	_, addr := Start(t, f, server.Config{}, &inetd.Time{})
	c := dial(t, addr)
	got, err := io.ReadAll(c)
	if err != nil || len(got) != 4 {
		t.Fatalf("time sent %d bytes (%v), want 4", len(got), err)
	}
	secs := int64(uint32(got[0])<<24|uint32(got[1])<<16|uint32(got[2])<<8|uint32(got[3])) - inetd.Epoch1900
	if d := time.Now().Unix() - secs; d < -2 || d > 5 {
		t.Errorf("time says %d, %ds from now", secs, d)
	}
}

func testChargen(t *testing.T, f Factory) {
	eng, addr := Start(t, f, server.Config{}, &inetd.Chargen{})
	c := dial(t, addr)
	const n = 100_000
	got := make([]byte, n)
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if want := inetd.ChargenStream(n); !bytes.Equal(got, want) {
		i := 0
		for i < n && got[i] == want[i] {
			i++
		}
		t.Fatalf("chargen differs from RFC 864's pattern at byte %d", i)
	}
	c.Close()
	waitFor(t, "chargen to notice the client left", func() bool { return eng.Stats().Active == 0 })
}

func testQOTD(t *testing.T, f Factory) {
	_, addr := Start(t, f, server.Config{}, &inetd.QOTD{})
	c := dial(t, addr)
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	q, ok := strings.CutSuffix(string(got), "\r\n")
	if !ok || len(got) >= 512 || !slices.Contains(inetd.DefaultQuotes, q) {
		t.Errorf("qotd sent %q", got)
	}
}

func testHello(t *testing.T, f Factory) {
	_, addr := Start(t, f, server.Config{}, inetd.Hello{})
	for range 3 {
		c := dial(t, addr)
		got, err := io.ReadAll(c)
		if err != nil || string(got) != inetd.HelloMessage {
			t.Fatalf("hello sent %q, %v", got, err)
		}
	}
}

func testChat(t *testing.T, f Factory) {
	var console testutil.SyncBuffer
	ch := inetd.NewChat()
	ch.Console = &console
	_, addr := Start(t, f, server.Config{}, ch)
	type client struct {
		c *net.TCPConn
		r *bufio.Reader
	}
	join := func() client {
		c := dial(t, addr)
		cl := client{c, bufio.NewReader(c)}
		return cl
	}
	expect := func(cl client, want string) {
		t.Helper()
		line, err := cl.r.ReadString('\n')
		if err != nil || !strings.Contains(line, want) {
			t.Fatalf("read %q (%v), want a line with %q", line, err, want)
		}
	}
	a := join()
	expect(a, "* welcome, guest1; 0 others here")
	b := join()
	expect(b, "* welcome, guest2; 1 other here")
	expect(a, "* guest2 joined")
	fmt.Fprintf(a.c, "/nick alice\n")
	expect(a, "* you are now alice")
	expect(b, "* guest1 is now alice")
	fmt.Fprintf(b.c, "/nick alice\n")
	expect(b, "* alice is taken")
	// A line split across writes arrives whole; CRLF is accepted.
	b.c.Write([]byte("hel"))
	time.Sleep(10 * time.Millisecond)
	b.c.Write([]byte("lo all\r\n"))
	expect(a, "<guest2> hello all")
	ch.Say("from the console")
	expect(a, "<server> from the console")
	expect(b, "<server> from the console")
	b.c.Close()
	expect(a, "* guest2 left")
	waitFor(t, "the console to hear the leave", func() bool { return strings.Contains(console.String(), "* guest2 left") })
	if s := console.String(); !strings.Contains(s, "<guest2> hello all") {
		t.Errorf("console did not hear the room: %q", s)
	}
	if m := ch.Members(); len(m) != 1 || m[0] != "alice" {
		t.Errorf("members %v, want [alice]", m)
	}
}

// recorder is a handler that records what happened, to check the order and
// completeness of events.
type recorder struct {
	server.Base
	onOpen func(c server.Conn)
	mu     sync.Mutex
	log    []string
	in     int
	closed chan struct{}
}

func newRecorder() *recorder { return &recorder{closed: make(chan struct{}, 16)} }

func (r *recorder) OnOpen(c server.Conn) {
	r.add("open")
	if r.onOpen != nil {
		r.onOpen(c)
	}
}

func (r *recorder) OnData(c server.Conn, p []byte) {
	r.mu.Lock()
	r.in += len(p)
	r.mu.Unlock()
}

func (r *recorder) OnEOF(c server.Conn) {
	r.add("eof")
	c.Close()
}

func (r *recorder) OnClose(c server.Conn, err error) {
	r.add(fmt.Sprintf("close %v", err))
	r.closed <- struct{}{}
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.log = append(r.log, s)
	r.mu.Unlock()
}

func (r *recorder) snapshot() ([]string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.log), r.in
}

func (r *recorder) waitClosed(t *testing.T) {
	t.Helper()
	select {
	case <-r.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("OnClose was not called")
	}
}

// testServerHalfClose: the server says goodbye and shuts its write side,
// and still reads everything the client sends after that.
func testServerHalfClose(t *testing.T, f Factory) {
	r := newRecorder()
	r.onOpen = func(c server.Conn) {
		c.Write([]byte("bye"))
		c.CloseWrite()
	}
	_, addr := Start(t, f, server.Config{}, r)
	c := dial(t, addr)
	got, err := io.ReadAll(c) // ends at the server's FIN
	if err != nil || string(got) != "bye" {
		t.Fatalf("read %q, %v", got, err)
	}
	const n = 300_000
	if _, err := c.Write(randomBytes(n)); err != nil {
		t.Fatalf("write after the server's half-close: %v", err)
	}
	c.CloseWrite()
	r.waitClosed(t)
	log, in := r.snapshot()
	if in != n || !slices.Equal(log, []string{"open", "eof", "close <nil>"}) {
		t.Errorf("server read %d of %d bytes; events %v", in, n, log)
	}
}

// testDataWithFIN: bytes sent together with the FIN are delivered before
// OnEOF, and OnEOF before OnClose.
func testDataWithFIN(t *testing.T, f Factory) {
	r := newRecorder()
	_, addr := Start(t, f, server.Config{}, r)
	for _, n := range []int{1, 1000, 200_000} {
		c := dial(t, addr)
		c.Write(randomBytes(n))
		c.Close()
		r.waitClosed(t)
		log, in := r.snapshot()
		if in != n || !slices.Equal(log[len(log)-3:], []string{"open", "eof", "close <nil>"}) {
			t.Errorf("sent %d bytes and FIN: server read %d; events %v", n, in, log)
		}
		r.mu.Lock()
		r.in, r.log = 0, nil
		r.mu.Unlock()
	}
}

// testConcurrent: many clients at once, each echoing 1 MiB (64 KiB with
// -short) checked by SHA-256.
func testConcurrent(t *testing.T, f Factory) {
	eng, addr := Start(t, f, server.Config{}, inetd.Echo{})
	clients, size := Clients(), 1<<20
	if testing.Short() {
		size = 64 << 10
	}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	start := make(chan struct{})
	for i := range clients {
		wg.Go(func() {
			<-start
			c, err := net.DialTimeout("tcp4", addr, 30*time.Second)
			if err != nil {
				errs <- fmt.Errorf("client %d: %w", i, err)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Minute))
			seed := [32]byte{byte(i), byte(i >> 8)}
			src := mrand.NewChaCha8(seed)
			sent := sha256.New()
			go func() {
				buf := make([]byte, 32<<10)
				for left := size; left > 0; left -= len(buf) {
					b := buf[:min(len(buf), left)]
					src.Read(b)
					sent.Write(b)
					if _, err := c.Write(b); err != nil {
						return
					}
				}
				c.(*net.TCPConn).CloseWrite()
			}()
			got := sha256.New()
			n, err := io.Copy(got, c)
			if err != nil || n != int64(size) {
				errs <- fmt.Errorf("client %d: echoed %d of %d bytes: %v", i, n, size, err)
				return
			}
			if !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
				errs <- fmt.Errorf("client %d: SHA-256 of the echo differs", i)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := eng.Stats()
	want := uint64(clients * size)
	if st.BytesIn != want || st.BytesOut != want {
		t.Errorf("stats: in %d out %d, want %d each", st.BytesIn, st.BytesOut, want)
	}
}

func testIdle(t *testing.T, f Factory) {
	const idle = 300 * time.Millisecond
	r := newRecorder()
	_, addr := Start(t, f, server.Config{IdleTimeout: idle}, r)
	busy := dial(t, addr)
	quiet := dial(t, addr)
	start := time.Now()
	// The busy client sends every 100ms and must outlive the idle one.
	stop := make(chan struct{})
	go func() {
		tk := time.NewTicker(idle / 3)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				busy.Write([]byte("x"))
			}
		}
	}()
	defer close(stop)
	if _, err := io.ReadAll(quiet); err != nil && !isReset(err) {
		t.Fatalf("idle client: %v", err)
	}
	if d := time.Since(start); d < idle || d > idle+5*time.Second {
		t.Errorf("idle connection closed after %v, want about %v", d, idle)
	}
	r.waitClosed(t)
	log, _ := r.snapshot()
	if !slices.Contains(log, "close "+server.ErrIdle.Error()) {
		t.Errorf("events %v, want a close with ErrIdle", log)
	}
	busy.SetReadDeadline(time.Now().Add(idle))
	if _, err := busy.Read(make([]byte, 1)); !isTimeout(err) {
		t.Errorf("busy connection: %v, want it still open", err)
	}
}

// testShutdownDrains: a request already sent when Shutdown begins is
// answered in full before the connection closes.
func testShutdownDrains(t *testing.T, f Factory) {
	eng := f(server.Config{DrainGrace: 500 * time.Millisecond}, inetd.Echo{})
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- eng.Serve(context.Background(), l) }()
	c := dial(t, l.Addr().String())
	idle := dial(t, l.Addr().String())
	want := randomBytes(256 << 10)
	go c.Write(want)
	// Wait for the first echo bytes, so the request is in flight.
	first := make([]byte, 1)
	if _, err := io.ReadFull(c, first); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- eng.Shutdown(ctx) }()
	rest, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading the reply during Shutdown: %v", err)
	}
	if got := append(first, rest...); !bytes.Equal(got, want) {
		t.Fatalf("reply cut: got %d of %d bytes", len(got), len(want))
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve after Shutdown: %v", err)
	}
	if _, err := io.ReadAll(idle); err != nil && !isReset(err) {
		t.Errorf("idle connection at Shutdown: %v", err)
	}
	if c, err := net.DialTimeout("tcp4", l.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Error("the listener still accepts after Shutdown")
	}
	if eng.Stats().Active != 0 {
		t.Errorf("%d connections active after Shutdown", eng.Stats().Active)
	}
}

func testMaxConns(t *testing.T, f Factory) {
	eng, addr := Start(t, f, server.Config{MaxConns: 2}, inetd.Echo{})
	a, b := dial(t, addr), dial(t, addr)
	for _, c := range []net.Conn{a, b} {
		roundTrip(t, c, "x")
	}
	third := dial(t, addr)
	if _, err := io.ReadAll(third); err != nil && !isReset(err) {
		t.Fatalf("third connection: %v", err)
	}
	if st := eng.Stats(); st.Rejected != 1 || st.Active != 2 {
		t.Errorf("stats %+v, want 1 rejected and 2 active", st)
	}
	a.Close()
	waitFor(t, "a slot to free up", func() bool { return eng.Stats().Active == 1 })
	roundTrip(t, dial(t, addr), "y")
}

func testMaxConnsPerIP(t *testing.T, f Factory) {
	eng, addr := Start(t, f, server.Config{MaxConnsPerIP: 1}, inetd.Echo{})
	roundTrip(t, dial(t, addr), "x")
	second := dial(t, addr)
	if _, err := io.ReadAll(second); err != nil && !isReset(err) {
		t.Fatalf("second connection: %v", err)
	}
	if st := eng.Stats(); st.Rejected != 1 {
		t.Errorf("stats %+v, want 1 rejected", st)
	}
}

func testFilter(t *testing.T, f Factory) {
	var mu sync.Mutex
	var events []server.Event
	cfg := server.Config{
		Filter: func(remote netip.AddrPort) error {
			if remote.Addr().Unmap() == netip.MustParseAddr("127.0.0.1") {
				return errors.New("127.0.0.1 is denied")
			}
			return nil
		},
		Events: func(e server.Event) {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		},
	}
	eng, addr := Start(t, f, cfg, inetd.Echo{})
	c := dial(t, addr)
	if _, err := io.ReadAll(c); err != nil && !isReset(err) {
		t.Fatal(err)
	}
	waitFor(t, "the rejection event", func() bool { mu.Lock(); defer mu.Unlock(); return len(events) == 1 })
	mu.Lock()
	e := events[0]
	mu.Unlock()
	if e.Kind != server.EventRejected || e.Reason != "127.0.0.1 is denied" || eng.Stats().Rejected != 1 {
		t.Errorf("event %+v", e)
	}
}

func testStats(t *testing.T, f Factory) {
	var mu sync.Mutex
	var closed []server.Event
	cfg := server.Config{Events: func(e server.Event) {
		if e.Kind == server.EventClosed {
			mu.Lock()
			closed = append(closed, e)
			mu.Unlock()
		}
	}}
	eng, addr := Start(t, f, cfg, inetd.Echo{})
	for i := range 3 {
		c := dial(t, addr)
		roundTrip(t, c, strings.Repeat("z", 10*(i+1)))
		c.Close()
	}
	waitFor(t, "three closed events", func() bool { mu.Lock(); defer mu.Unlock(); return len(closed) == 3 })
	st := eng.Stats()
	if st.Accepted != 3 || st.Active != 0 || st.BytesIn != 60 || st.BytesOut != 60 {
		t.Errorf("stats %+v, want 3 accepted, 0 active, 60 bytes each way", st)
	}
	mu.Lock()
	defer mu.Unlock()
	var sum uint64
	for _, e := range closed {
		sum += e.BytesIn
		if e.BytesIn != e.BytesOut || e.Duration <= 0 || !e.Remote.IsValid() {
			t.Errorf("closed event %+v", e)
		}
	}
	if sum != 60 {
		t.Errorf("closed events count %d bytes in, want 60", sum)
	}
}

// testForeignWrite: a write from outside the connection's callbacks (a
// timer, another connection) reaches the peer.
func testForeignWrite(t *testing.T, f Factory) {
	r := newRecorder()
	r.onOpen = func(c server.Conn) {
		time.AfterFunc(20*time.Millisecond, func() {
			c.Write([]byte("later\n"))
			c.Close()
		})
	}
	_, addr := Start(t, f, server.Config{}, r)
	got, err := io.ReadAll(dial(t, addr))
	if err != nil || string(got) != "later\n" {
		t.Fatalf("read %q, %v", got, err)
	}
	r.waitClosed(t)
}

func roundTrip(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
		t.Fatalf("echo of %q: %q, %v", msg, got, err)
	}
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || errors.Is(err, net.ErrClosed))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
