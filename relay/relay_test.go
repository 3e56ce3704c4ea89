package relay

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/internal/testutil"
)

// pair returns the two ends of a fresh connection of the given network.
func pair(t testing.TB, network string) (client, server net.Conn) {
	t.Helper()
	var l net.Listener
	if network == "unix" {
		var err error
		l, err = net.Listen("unix", filepath.Join(t.TempDir(), "s"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
	} else {
		l = testutil.Listen(t, "tcp4")
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
	}()
	c, err := net.Dial(l.Addr().Network(), l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	if s == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c, s
}

// forward sets up client -> (a relay b) -> target and returns the client
// end, the target end, and a channel with the relay's result.
func forward(t testing.TB, network string, cfg Config) (client, target net.Conn, result chan relayResult) {
	client, a := pair(t, network)
	b, target := pair(t, network)
	result = make(chan relayResult, 1)
	go func() {
		st, err := Relay(context.Background(), a, b, cfg)
		result <- relayResult{st, err}
	}()
	return client, target, result
}

type relayResult struct {
	st  Stats
	err error
}

func stream(seed uint64, n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed)}).Read(b)
	return b
}

func TestRelayBothWays(t *testing.T) {
	for _, tc := range []struct {
		network  string
		noSplice bool
	}{{"tcp", false}, {"tcp", true}, {"unix", true}} {
		name := tc.network + "/splice"
		if tc.noSplice {
			name = tc.network + "/copy"
		}
		t.Run(name, func(t *testing.T) {
			testutil.CheckLeaks(t)
			client, target, result := forward(t, tc.network, Config{NoSplice: tc.noSplice})
			up, down := stream(1, 3<<20+17), stream(2, 2<<20+5)
			go func() {
				client.Write(up)
				client.(interface{ CloseWrite() error }).CloseWrite()
			}()
			// The target reads everything up to the client's FIN, and only
			// then answers: the half-close must carry through.
			got, err := io.ReadAll(target)
			if err != nil || !bytes.Equal(got, up) {
				t.Fatalf("target got %d of %d bytes: %v", len(got), len(up), err)
			}
			go func() {
				target.Write(down)
				target.Close()
			}()
			back, err := io.ReadAll(client)
			if err != nil || !bytes.Equal(back, down) {
				t.Fatalf("client got %d of %d bytes: %v", len(back), len(down), err)
			}
			r := <-result
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.st.AToB != int64(len(up)) || r.st.BToA != int64(len(down)) || r.st.Spliced == tc.noSplice {
				t.Errorf("stats %+v", r.st)
			}
		})
	}
}

func TestRelayIdle(t *testing.T) {
	testutil.CheckLeaks(t)
	client, target, result := forward(t, "tcp", Config{IdleTimeout: 200 * time.Millisecond})
	// Traffic keeps it alive past the timeout...
	for range 5 {
		client.Write([]byte("x"))
		target.Read(make([]byte, 1))
		time.Sleep(80 * time.Millisecond)
	}
	start := time.Now()
	r := <-result
	if !errors.Is(r.err, ErrIdle) {
		t.Fatalf("relay ended with %v, want ErrIdle", r.err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("idle relay lasted %v", d)
	}
	if r.st.AToB != 5 {
		t.Errorf("stats %+v", r.st)
	}
}

func TestRelayContext(t *testing.T) {
	testutil.CheckLeaks(t)
	client, a := pair(t, "tcp")
	b, _ := pair(t, "tcp")
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() { _, err := Relay(ctx, a, b, Config{}); result <- err }()
	cancel()
	if err := <-result; !errors.Is(err, context.Canceled) {
		t.Errorf("Relay = %v, want context.Canceled", err)
	}
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := client.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("client read %v, want EOF after the relay closed", err)
	}
}

// TestRelayReset: a reset on one side ends the relay with an error.
func TestRelayReset(t *testing.T) {
	testutil.CheckLeaks(t)
	client, target, result := forward(t, "tcp", Config{})
	client.Write([]byte("hello"))
	buf := make([]byte, 5)
	io.ReadFull(target, buf)
	target.(*net.TCPConn).SetLinger(0)
	target.Close() // RST
	r := <-result
	if r.err == nil {
		// The reset may arrive as EOF on some kernels' timing; then the
		// client must still be closed.
		client.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := client.Read(buf); err == nil {
			t.Error("client still open after the target reset")
		}
	}
}

// TestRelayPipe: net.Pipe conns are not sockets, so the copy path runs.
func TestRelayPipe(t *testing.T) {
	c1, a := net.Pipe()
	b, c2 := net.Pipe()
	result := make(chan relayResult, 1)
	go func() {
		st, err := Relay(context.Background(), a, b, Config{BufferSize: 1000})
		result <- relayResult{st, err}
	}()
	want := stream(3, 100_000)
	go func() { c1.Write(want); c1.Close() }()
	h := sha256.New()
	n, _ := io.Copy(h, c2)
	c2.Close()
	r := <-result
	wantSum := sha256.Sum256(want)
	if n != int64(len(want)) || !bytes.Equal(h.Sum(nil), wantSum[:]) {
		t.Errorf("copied %d of %d bytes, or they differ", n, len(want))
	}
	if r.err != nil || r.st.Spliced || r.st.AToB != int64(len(want)) {
		t.Errorf("relay ended with %v; stats %+v", r.err, r.st)
	}
}

func BenchmarkRelay(b *testing.B) {
	for _, tc := range []struct {
		name     string
		noSplice bool
	}{{"splice", false}, {"copy", true}} {
		b.Run(tc.name, func(b *testing.B) {
			client, target, result := forward(b, "tcp", Config{NoSplice: tc.noSplice})
			chunk := make([]byte, 1<<20)
			b.SetBytes(int64(len(chunk)))
			b.ReportAllocs()
			done := make(chan int64)
			go func() { n, _ := io.Copy(io.Discard, target); done <- n }()
			b.ResetTimer()
			for range b.N {
				client.Write(chunk)
			}
			client.(*net.TCPConn).CloseWrite()
			if n := <-done; n != int64(b.N*len(chunk)) {
				b.Fatalf("sink got %d bytes", n)
			}
			b.StopTimer()
			target.Close()
			<-result
		})
	}
}
