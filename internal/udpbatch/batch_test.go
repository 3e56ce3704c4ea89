package udpbatch

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// serve runs Serve on a loopback socket of network ("udp4" or "udp6")
// and returns the socket and the loop's result.
func serve(t *testing.T, network, addr string, cfg Config, h Handler) (*net.UDPConn, context.CancelFunc, <-chan error) {
	t.Helper()
	uc, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		t.Skip("no", network, "loopback:", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, uc, cfg, h) }()
	t.Cleanup(func() { cancel(); uc.Close() })
	return uc, cancel, done
}

func echo(w *Writer, p []byte, from netip.AddrPort, _ bool) { w.WriteTo(p, from) }

// TestEchoesABurst sends more datagrams than a batch holds before reading
// any reply: every one comes back once, whole, and Sent counts them.
func TestEchoesABurst(t *testing.T) {
	var mu sync.Mutex
	var packets, bytes_ int
	cfg := Config{Batch: 4, Sent: func(p, b int) { mu.Lock(); packets += p; bytes_ += b; mu.Unlock() }}
	uc, _, _ := serve(t, "udp4", "127.0.0.1:0", cfg, echo)
	c, err := net.DialUDP("udp4", nil, uc.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 50
	for i := range n {
		if _, err := c.Write(bytes.Repeat([]byte{byte(i)}, i+1)); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[int]bool{}
	buf := make([]byte, 100)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(seen) < n {
		m, err := c.Read(buf)
		if err != nil {
			t.Fatalf("after %d replies: %v", len(seen), err)
		}
		if m == 0 || int(buf[0]) != m-1 || !bytes.Equal(buf[:m], bytes.Repeat(buf[:1], m)) || seen[m] {
			t.Fatalf("reply of %d bytes is not one of the datagrams sent, or came twice: % x", m, buf[:m])
		}
		seen[m] = true
	}
	// The replies can arrive before the loop hears from the kernel that
	// it took the last of them: wait for the count.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		mu.Lock()
		p, b := packets, bytes_
		mu.Unlock()
		if p == n && b == n*(n+1)/2 {
			break
		}
		if p > n || time.Now().After(deadline) {
			t.Fatalf("Sent counted %d packets, %d bytes; want %d, %d", p, b, n, n*(n+1)/2)
		}
	}
}

// TestTruncated hands over a datagram longer than the slot as the slot's
// first bytes, marked truncated.
func TestTruncated(t *testing.T) {
	got := make(chan string, 1)
	uc, _, _ := serve(t, "udp4", "127.0.0.1:0", Config{Slot: 8}, func(w *Writer, p []byte, from netip.AddrPort, trunc bool) {
		got <- string(p) + map[bool]string{true: " truncated", false: ""}[trunc]
	})
	c, err := net.DialUDP("udp4", nil, uc.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("0123456789abcdef"))
	select {
	case s := <-got:
		if s != "01234567 truncated" {
			t.Fatalf("handler saw %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no datagram")
	}
}

// TestRepliesOnDualStack: an IPv6 socket answers an IPv4 peer (seen as a
// mapped address), and an IPv4 socket refuses an IPv6 destination
// through SendError, still sending the batch's other replies.
func TestRepliesOnDualStack(t *testing.T) {
	uc, _, _ := serve(t, "udp", "[::]:0", Config{}, echo)
	port := uc.LocalAddr().(*net.UDPAddr).Port
	c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("v4 peer"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "v4 peer" {
		t.Fatalf("reply %q, %v", buf[:n], err)
	}

	refused := make(chan netip.AddrPort, 1)
	v6 := netip.MustParseAddrPort("[2001:db8::1]:9")
	uc4, _, _ := serve(t, "udp4", "127.0.0.1:0", Config{SendError: func(to netip.AddrPort, err error) { refused <- to }},
		func(w *Writer, p []byte, from netip.AddrPort, _ bool) {
			w.WriteTo([]byte("nowhere"), v6)
			w.WriteTo(p, from)
		})
	c4, err := net.DialUDP("udp4", nil, uc4.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c4.Close()
	c4.Write([]byte("still answered"))
	c4.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c4.Read(buf); err != nil || string(buf[:n]) != "still answered" {
		t.Fatalf("reply %q, %v", buf[:n], err)
	}
	if to := <-refused; to != v6 {
		t.Fatalf("SendError told of %v", to)
	}
}

// TestStops: a cancelled context ends Serve with nil, a closed socket
// with net.ErrClosed.
func TestStops(t *testing.T) {
	_, cancel, done := serve(t, "udp4", "127.0.0.1:0", Config{}, echo)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not notice the context")
	}
	uc, _, done := serve(t, "udp4", "127.0.0.1:0", Config{}, echo)
	uc.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("after close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not notice the close")
	}
}

func BenchmarkEcho(b *testing.B) {
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Serve(ctx, uc, Config{Slot: 2048}, echo)
	c, err := net.DialUDP("udp4", nil, uc.LocalAddr().(*net.UDPAddr))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	msg, buf := make([]byte, 64), make([]byte, 64)
	b.ReportAllocs()
	for b.Loop() {
		c.Write(msg)
		if _, err := c.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
}
