package relay_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/inetd"
	"github.com/netkit-dev/netkit/internal/testutil"
	"github.com/netkit-dev/netkit/relay"
	"github.com/netkit-dev/netkit/server"
)

func echoServer(t *testing.T) string {
	t.Helper()
	s := &server.Server{Handler: inetd.Echo{}}
	l := testutil.Listen(t, "tcp4")
	go s.Serve(context.Background(), l)
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return l.Addr().String()
}

func TestForwarder(t *testing.T) {
	testutil.CheckLeaks(t)
	target := echoServer(t)
	var mu sync.Mutex
	var moved int64
	f := &relay.Forwarder{
		Dial: func(ctx context.Context) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp4", target)
		},
		Done: func(_ net.Addr, st relay.Stats, err error) {
			mu.Lock()
			moved += st.AToB + st.BToA
			mu.Unlock()
		},
	}
	l := testutil.Listen(t, "tcp4")
	go f.Serve(context.Background(), l)
	defer f.Shutdown(context.Background())
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			c, err := net.Dial("tcp4", l.Addr().String())
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			want := bytes.Repeat([]byte{byte(i)}, 100_000+i)
			go func() { c.Write(want); c.(*net.TCPConn).CloseWrite() }()
			got, err := io.ReadAll(c)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("client %d: %d of %d bytes back: %v", i, len(got), len(want), err)
			}
		})
	}
	wg.Wait()
	for f.Stats().Active != 0 {
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	var want int64
	for i := range 8 {
		want += 2 * int64(100_000+i)
	}
	if moved != want {
		t.Errorf("relays moved %d bytes, want %d", moved, want)
	}
}

func TestForwarderDialFails(t *testing.T) {
	// The forwarder's own listener first, so that the dead port cannot be
	// the same one (a forwarder dialing itself would loop).
	l := testutil.Listen(t, "tcp4")
	l0 := testutil.Listen(t, "tcp4")
	dead := l0.Addr().String()
	l0.Close()
	errs := make(chan error, 1)
	f := &relay.Forwarder{
		Dial: func(ctx context.Context) (net.Conn, error) { return net.Dial("tcp4", dead) },
		Done: func(_ net.Addr, _ relay.Stats, err error) {
			select {
			case errs <- err:
			default:
			}
		},
	}
	go f.Serve(context.Background(), l)
	defer f.Shutdown(context.Background())
	c, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("client read data from a forward whose target refused")
	}
	if err := <-errs; err == nil {
		t.Error("Done got no error for a refused target")
	}
}

func udpEcho(t *testing.T) string {
	t.Helper()
	pc := testutil.ListenPacket(t, "udp4")
	s := &server.PacketServer{Handler: inetd.Echo{}}
	go s.Serve(context.Background(), pc)
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return pc.LocalAddr().String()
}

func TestPacketForwarder(t *testing.T) {
	testutil.CheckLeaks(t)
	target := udpEcho(t)
	f := &relay.PacketForwarder{
		Dial:        func(ctx context.Context) (net.Conn, error) { return net.Dial("udp4", target) },
		IdleTimeout: 300 * time.Millisecond,
		MaxSessions: 2,
		Filter: func(c netip.AddrPort) error {
			if c.Addr().Unmap() != netip.MustParseAddr("127.0.0.1") {
				return errors.New("not loopback")
			}
			return nil
		},
	}
	pc := testutil.ListenPacket(t, "udp4")
	served := make(chan error, 1)
	go func() { served <- f.Serve(context.Background(), pc) }()
	fwd := pc.LocalAddr().(*net.UDPAddr)

	clients := make([]*net.UDPConn, 3)
	for i := range clients {
		c, err := net.DialUDP("udp4", nil, fwd)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients[i] = c
	}
	// Two clients each get their own replies, boundaries kept.
	for round := range 3 {
		for i, c := range clients[:2] {
			msg := fmt.Sprintf("client %d round %d", i, round)
			c.Write([]byte(msg))
			buf := make([]byte, 100)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := c.Read(buf)
			if err != nil || string(buf[:n]) != msg {
				t.Fatalf("client %d got %q, %v; want %q", i, buf[:n], err, msg)
			}
		}
	}
	// A third client is over the cap: dropped.
	clients[2].Write([]byte("over the cap"))
	clients[2].SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := clients[2].Read(make([]byte, 100)); err == nil {
		t.Error("a client over MaxSessions got an answer")
	}
	if st := f.Stats(); st.Sessions != 2 || st.Dropped != 1 || st.ToTarget != 6 || st.FromTarget != 6 {
		t.Errorf("stats %+v", st)
	}
	// Idle sessions are forgotten, and the third client gets in.
	deadline := time.Now().Add(5 * time.Second)
	for f.Stats().Sessions != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := f.Stats().Sessions; n != 0 {
		t.Fatalf("%d sessions still open after the idle timeout", n)
	}
	clients[2].Write([]byte("now"))
	clients[2].SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 10)
	if n, err := clients[2].Read(buf); err != nil || string(buf[:n]) != "now" {
		t.Errorf("third client after expiry: %q, %v", buf[:n], err)
	}
	f.Shutdown(context.Background())
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// TestPacketForwarderEventsAndCap: sessions are reported as they open and
// close, with their bytes; a client beyond the cap is rejected.
func TestPacketForwarderEventsAndCap(t *testing.T) {
	target := udpEcho(t)
	var mu sync.Mutex
	var events []server.Event
	f := &relay.PacketForwarder{
		Dial: func(ctx context.Context) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", target)
		},
		MaxSessions: 1,
		Events: func(e server.Event) {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		},
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- f.Serve(context.Background(), pc) }()
	a, _ := net.Dial("udp", pc.LocalAddr().String())
	defer a.Close()
	a.Write([]byte("hello"))
	a.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := a.Read(make([]byte, 10)); err != nil || n != 5 {
		t.Fatalf("echo through the forwarder: %d, %v", n, err)
	}
	b, _ := net.Dial("udp", pc.LocalAddr().String())
	defer b.Close()
	b.Write([]byte("over the cap"))
	for deadline := time.Now().Add(5 * time.Second); f.Stats().Dropped == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	f.Shutdown(context.Background())
	<-done
	mu.Lock()
	defer mu.Unlock()
	var kinds []string
	for _, e := range events {
		kinds = append(kinds, string(e.Kind))
	}
	if got := strings.Join(kinds, ","); got != "accepted,rejected,closed" {
		t.Fatalf("events %s, want accepted,rejected,closed", got)
	}
	if c := events[2]; c.BytesIn != 5 || c.BytesOut != 5 || c.Remote != events[0].Remote {
		t.Errorf("closed event %+v", c)
	}
	if r := events[1]; !strings.Contains(r.Reason, "sessions open, the most allowed") {
		t.Errorf("rejected event %+v", r)
	}
}
