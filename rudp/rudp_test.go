package rudp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/impair"
	"golang.org/x/net/nettest"
)

func pipe(t testing.TB, cfg Config, via func(addr string) string) (client, server *Conn, stop func()) {
	t.Helper()
	l, err := Listen("udp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if via != nil {
		addr = via(addr)
	}
	type res struct {
		c   *Conn
		err error
	}
	acc := make(chan res, 1)
	go func() {
		c, err := l.AcceptRUDP(context.Background())
		acc <- res{c, err}
	}()
	client, err = Dial(context.Background(), "udp", addr, cfg)
	if err != nil {
		l.Close()
		t.Fatal(err)
	}
	r := <-acc
	if r.err != nil {
		t.Fatal(r.err)
	}
	return client, r.c, func() { client.Close(); r.c.Close(); l.Close() }
}

func TestNettestConn(t *testing.T) {
	nettest.TestConn(t, func() (net.Conn, net.Conn, func(), error) {
		c, s, stop := pipe(t, Config{}, nil)
		return c, s, stop, nil
	})
}

// impaired starts netkit's impairment proxy in front of addr.
func impaired(t testing.TB, f impair.Faults, seed uint64) func(string) string {
	return func(addr string) string {
		front, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		p := &impair.Proxy{To: addr, Up: f, Down: f, Seed: seed}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { p.Serve(ctx, front); close(done) }()
		t.Cleanup(func() {
			cancel()
			<-done
			st := p.Stats()
			t.Logf("impair: up %+v", st.Up)
			t.Logf("impair: down %+v", st.Down)
		})
		return front.LocalAddr().String()
	}
}

// transfer sends n random bytes from client to server and checks that
// they arrive whole, in order, then the EOF.
func transfer(t *testing.T, n int, cfg Config, via func(string) string) (Stats, time.Duration) {
	t.Helper()
	c, s, stop := pipe(t, cfg, via)
	defer stop()
	data := make([]byte, n)
	rng := rand.New(rand.NewPCG(uint64(n), 1))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	start := time.Now()
	errc := make(chan error, 1)
	go func() {
		_, err := c.Write(data)
		if err == nil {
			err = c.CloseWrite()
		}
		errc <- err
	}()
	s.SetReadDeadline(time.Now().Add(60 * time.Second))
	got, err := io.ReadAll(s)
	if err != nil {
		t.Fatalf("after %d of %d bytes: %v", len(got), n, err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("%d bytes arrived, not the %d sent (or not in order)", len(got), n)
	}
	return c.Stats(), time.Since(start)
}

func TestTransferClean(t *testing.T) {
	for _, n := range []int{0, 1, 1000, 1 << 20, 16 << 20} {
		st, d := transfer(t, n, Config{}, nil)
		t.Logf("%d bytes in %v: %+v", n, d, st)
		if n > 0 && st.Retransmitted > st.Sent/10 {
			t.Errorf("%d bytes on clean loopback: %d of %d packets sent again", n, st.Retransmitted, st.Sent)
		}
	}
}

func TestTransferThroughLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	for _, tc := range []struct {
		name string
		f    impair.Faults
		n    int
	}{
		{"1% loss", impair.Faults{Loss: 0.01, Delay: 2 * time.Millisecond}, 4 << 20},
		{"5% loss, reordering, duplicates, corruption", impair.Faults{Loss: 0.05, Delay: 2 * time.Millisecond, Jitter: time.Millisecond, Reorder: 0.02, Duplicate: 0.02, Corrupt: 0.01}, 2 << 20},
		{"20% loss", impair.Faults{Loss: 0.20, Delay: time.Millisecond}, 1 << 20},
		{"30% loss", impair.Faults{Loss: 0.30, Delay: time.Millisecond}, 256 << 10},
		{"bursty loss", impair.Faults{GilbertElliott: &impair.GilbertElliott{P: 0.01, R: 0.2}, Delay: 2 * time.Millisecond}, 2 << 20},
		{"a bottleneck", impair.Faults{Rate: 50e6, Queue: 64 << 10, Delay: 5 * time.Millisecond}, 4 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, d := transfer(t, tc.n, Config{}, impaired(t, tc.f, 7))
			t.Logf("%d bytes in %v (%.1f Mbit/s): %+v", tc.n, d, float64(tc.n)*8/d.Seconds()/1e6, st)
			if st.Retransmitted == 0 && tc.f.Loss > 0 {
				t.Error("nothing was sent again through a lossy link")
			}
		})
	}
}

// The link goes down for a second in the middle of a transfer; the
// connection waits it out and finishes.
func TestTransferAcrossAPartition(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	f := impair.Faults{Rate: 20e6, Down: []impair.Window{{At: 300 * time.Millisecond, For: time.Second}}}
	st, d := transfer(t, 2<<20, Config{}, impaired(t, f, 1))
	if d < time.Second {
		t.Fatalf("done in %v: the partition did not bite", d)
	}
	if st.Timeouts == 0 {
		t.Fatalf("no retransmission timeout during a one-second partition: %+v", st)
	}
}

// Envelope 13 is lost once: the receiver sees the gap, says so with a
// selective acknowledgement, and 13 comes again.
func TestEnvelope13(t *testing.T) {
	var mu sync.Mutex
	var events []TraceEvent
	cfg := Config{Trace: func(ev TraceEvent) { mu.Lock(); events = append(events, ev); mu.Unlock() }}
	scfg := Config{}
	l, err := Listen("udp", "127.0.0.1:0", scfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	via := impaired(t, impair.Faults{Script: []impair.Rule{{Match: []byte("envelope 13\n"), Times: 1}}}, 1)(l.Addr().String())
	acc := make(chan *Conn, 1)
	go func() { s, _ := l.AcceptRUDP(context.Background()); acc <- s }()
	c, err := Dial(context.Background(), "udp", via, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := <-acc
	// Envelopes written a millisecond apart: mostly one a packet (two
	// may share one), each following the last well inside the tail loss
	// probe's two milliseconds at least, so that the envelope after 13
	// shows the gap before a probe would resend 13.
	var want bytes.Buffer
	for i := 1; i <= 20; i++ {
		line := []byte("envelope " + itoa(i) + "\n")
		want.Write(line)
		c.Write(line)
		time.Sleep(time.Millisecond)
	}
	c.CloseWrite()
	s.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(s)
	if err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("got %q, %v", got, err)
	}
	c.Close()
	s.Close()
	mu.Lock()
	defer mu.Unlock()
	// The story: an acknowledgement that stops at a packet (the one that
	// carried envelope 13) and selectively acknowledges packets past it,
	// then that packet sent again. (On a busy host a late
	// acknowledgement may draw a probe's resend of another packet too.)
	told := false
	gaps := map[uint32]bool{}
	for _, ev := range events {
		if ev.Event == "ack" && len(ev.SACK) > 0 {
			gaps[ev.Ack] = true
		}
		if ev.Event == "resend" && gaps[ev.Seq] {
			told = true
		}
	}
	if !told {
		t.Fatalf("the trace does not tell the story (no resend of a packet that a selective acknowledgement showed missing): %+v", events)
	}
}

func itoa(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }

func TestCorruptedPacketsAreDropped(t *testing.T) {
	p := packet{kind: kindData, conn: 7, seq: 3, ack: 9, window: 100, tsval: 5, sack: []block{{11, 14}}, payload: []byte("hello")}
	b := p.appendTo(nil)
	var q packet
	if err := q.decode(b); err != nil || q.seq != 3 || string(q.payload) != "hello" || q.sack[0] != (block{11, 14}) {
		t.Fatalf("round trip: %+v, %v", q, err)
	}
	for i := range b {
		for bit := range 8 {
			c := bytes.Clone(b)
			c[i] ^= 1 << bit
			if err := q.decode(c); err == nil {
				t.Fatalf("a flip of bit %d of byte %d went unnoticed", bit, i)
			}
		}
	}
}

func FuzzDecode(f *testing.F) {
	p := packet{kind: kindData, conn: 7, seq: 3, ack: 9, window: 100, tsval: 5, sack: []block{{11, 14}}, payload: []byte("hello")}
	f.Add(p.appendTo(nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var q packet
		if q.decode(b) != nil {
			return
		}
		again := q.appendTo(nil)
		if !bytes.Equal(again, b) {
			t.Fatalf("decode then encode changed %x into %x", b, again)
		}
	})
}

func BenchmarkTransfer(b *testing.B) {
	c, s, stop := pipe(b, Config{}, nil)
	defer stop()
	chunk := make([]byte, 256<<10)
	go io.Copy(io.Discard, s)
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(c.Stats().Retransmitted), "resent")
}

// A dial with no listener says so (ErrNoAnswer) after HandshakeTimeout; a
// dial whose context ends says that instead.
func TestDialWithoutListener(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // bound, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	_, err = Dial(context.Background(), "udp", pc.LocalAddr().String(), Config{HandshakeTimeout: 300 * time.Millisecond})
	if !errors.Is(err, ErrNoAnswer) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial = %v, want ErrNoAnswer alone", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = Dial(ctx, "udp", pc.LocalAddr().String(), Config{})
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrNoAnswer) {
		t.Fatalf("Dial with an ending context = %v, want the context's error", err)
	}
}

// TestSACKReportsEveryRun: a receiver that reads many datagrams between
// two acknowledgements, with holes among them, reports every run it
// received (in further acknowledgements when four blocks do not hold
// them), and keeps reporting a run after newer ones open above it; a
// sender that never hears of a packet would send it again.
func TestSACKReportsEveryRun(t *testing.T) {
	clock := impair.NewVirtualClock(time.Unix(1_700_000_000, 0))
	addr := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1}
	var sent [][]byte
	cfg := Config{clock: clock.Now, manual: true, seed: 1}
	c := newConn(cfg, addr, addr, 2, 1, 0, func(d [][]byte) error { sent = append(sent, d...); return nil }, nil)
	arrive := func(from, to uint32) {
		for s := from; s < to; s++ {
			c.input(&packet{kind: kindData, conn: 2, seq: s, ack: 1, window: 1000, tsval: 1, payload: []byte{byte(s)}})
		}
	}
	reported := func() map[uint32]bool {
		t.Helper()
		sent = nil
		c.tick()
		got := map[uint32]bool{}
		for _, d := range sent {
			var p packet
			if err := p.decode(d); err != nil {
				t.Fatal(err)
			}
			for _, b := range p.sack {
				for s := b.Start; s < b.End; s++ {
					got[s] = true
				}
			}
		}
		return got
	}
	// Packet 1 is lost; six runs above it arrive in one read, each
	// ended by a lost packet (8, 15, 22, ...).
	for r := uint32(0); r < 6; r++ {
		arrive(2+7*r, 8+7*r)
	}
	got := reported()
	for r := uint32(0); r < 6; r++ {
		for s := 2 + 7*r; s < 8+7*r; s++ {
			if !got[s] {
				t.Fatalf("packet %d arrived but no acknowledgement reported it (reported %v)", s, got)
			}
		}
	}
	// A run opens at 44 and is reported; it grows to 46, and a new run
	// opens at 48 above a hole: the next acknowledgement reports the
	// grown run whole, beside the new one.
	arrive(44, 45)
	reported()
	arrive(45, 47)
	arrive(48, 49)
	got = reported()
	for s := uint32(37); s < 49; s++ {
		if s != 43 && s != 47 && !got[s] {
			t.Fatalf("packet %d arrived but the last acknowledgement left it out (reported %v)", s, got)
		}
	}
}

// TestIPv6: over ::1 the listener reads its peers' IPv6 addresses (with
// recvmmsg on Linux) and both directions carry data; the server sees the
// client's own address and port.
func TestIPv6(t *testing.T) {
	l, err := Listen("udp", "[::1]:0", Config{})
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	defer l.Close()
	acc := make(chan *Conn, 1)
	go func() { s, _ := l.AcceptRUDP(context.Background()); acc <- s }()
	c, err := Dial(context.Background(), "udp", l.Addr().String(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := <-acc
	if s == nil {
		t.Fatal("no connection accepted")
	}
	defer s.Close()
	if got, want := s.RemoteAddr().String(), c.LocalAddr().String(); got != want {
		t.Fatalf("the server sees the client at %s; the client is at %s", got, want)
	}
	for _, dir := range []struct {
		w, r *Conn
		msg  string
	}{{c, s, "hello over ::1"}, {s, c, "and back"}} {
		if _, err := dir.w.Write([]byte(dir.msg)); err != nil {
			t.Fatal(err)
		}
		dir.r.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, len(dir.msg))
		if _, err := io.ReadFull(dir.r, buf); err != nil || string(buf) != dir.msg {
			t.Fatalf("read %q, %v; want %q", buf, err, dir.msg)
		}
	}
}

// TestWindowCountsFromTheAck: packets held out of order behind a hole sit
// inside the window the receiver advertises, which counts from the
// acknowledgement number; only in-order bytes not yet read shrink it.
// (Subtracting the held packets as well shut a sender that measures its
// window from the oldest unacknowledged packet whenever a hole was old.)
func TestWindowCountsFromTheAck(t *testing.T) {
	clock := impair.NewVirtualClock(time.Unix(1_700_000_000, 0))
	addr := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1}
	var sent [][]byte
	cfg := Config{clock: clock.Now, manual: true, seed: 1, Window: 100}
	c := newConn(cfg, addr, addr, 2, 1, 0, func(d [][]byte) error { sent = append(sent, d...); return nil }, nil)
	advertised := func() (ack, window uint32) {
		t.Helper()
		sent = nil
		c.tick()
		if len(sent) == 0 {
			t.Fatal("no acknowledgement sent")
		}
		var p packet
		if err := p.decode(sent[len(sent)-1]); err != nil {
			t.Fatal(err)
		}
		return p.ack, p.window
	}
	payload := make([]byte, c.mss)
	for s := uint32(2); s < 42; s++ { // packet 1 lost, 40 held
		c.input(&packet{kind: kindData, conn: 2, seq: s, ack: 1, window: 1000, tsval: 1, payload: payload})
	}
	if ack, w := advertised(); ack != 1 || w != 100 {
		t.Fatalf("with 40 packets held behind a hole: ack %d, window %d; want 1 and 100", ack, w)
	}
	c.input(&packet{kind: kindData, conn: 2, seq: 1, ack: 1, window: 1000, tsval: 1, payload: payload})
	if ack, w := advertised(); ack != 42 || w != 59 {
		t.Fatalf("with the hole filled and 41 packets unread: ack %d, window %d; want 42 and 59", ack, w)
	}
}
