package impair

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2/client"
)

// echoServer echoes every connection until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	return l.Addr().String()
}

// apiClient serves an API and returns it with toxiproxy's client for
// it; both end with the test.
func apiClient(t *testing.T) (*API, *toxiproxy.Client) {
	t.Helper()
	api := &API{}
	srv := httptest.NewServer(api)
	t.Cleanup(func() { srv.Close(); api.Close() })
	return api, toxiproxy.NewClient(srv.URL)
}

// roundTrip sends msg through addr and times the echo.
func roundTrip(t *testing.T, addr string, msg []byte) ([]byte, time.Duration, error) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	if _, err := c.Write(msg); err != nil {
		return nil, 0, err
	}
	got := make([]byte, len(msg))
	_, err = io.ReadFull(c, got)
	return got, time.Since(start), err
}

// The toxiproxy Go client drives netkit's API as it would drive
// toxiproxy: a proxy is made, toxics come and go, and the connections
// feel them.
func TestToxiproxyClientDrivesTheAPI(t *testing.T) {
	upstream := echoServer(t)
	_, client := apiClient(t)

	proxy, err := client.CreateProxy("echo", "127.0.0.1:0", upstream)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateProxy("echo", "127.0.0.1:0", upstream); err == nil {
		t.Fatal("a second proxy of the same name was made")
	}
	msg := []byte("hello through the toxics")
	got, base, err := roundTrip(t, proxy.Listen, msg)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("clean round trip: %q, %v", got, err)
	}

	// latency, downstream: every echo is 100 ms late.
	if _, err := proxy.AddToxic("slow", "latency", "downstream", 1, toxiproxy.Attributes{"latency": 100}); err != nil {
		t.Fatal(err)
	}
	_, d, err := roundTrip(t, proxy.Listen, msg)
	if err != nil || d < 100*time.Millisecond || d > base+time.Second {
		t.Fatalf("with 100 ms latency the round trip took %v (%v)", d, err)
	}
	toxics, err := proxy.Toxics()
	if err != nil || len(toxics) != 1 || toxics[0].Name != "slow" || toxics[0].Attributes["latency"] != 100.0 {
		t.Fatalf("toxics %+v, %v", toxics, err)
	}
	// Updated in place.
	if _, err := proxy.UpdateToxic("slow", -1, toxiproxy.Attributes{"latency": 10}); err != nil {
		t.Fatal(err)
	}
	if _, d, _ := roundTrip(t, proxy.Listen, msg); d > 90*time.Millisecond {
		t.Fatalf("after the update to 10 ms the round trip took %v", d)
	}
	if err := proxy.RemoveToxic("slow"); err != nil {
		t.Fatal(err)
	}

	// limit_data upstream: the connection closes after 5 bytes.
	if _, err := proxy.AddToxic("", "limit_data", "upstream", 1, toxiproxy.Attributes{"bytes": 5}); err != nil {
		t.Fatal(err)
	}
	got, _, err = roundTrip(t, proxy.Listen, msg)
	if err == nil || len(bytes.TrimRight(got, "\x00")) > 5 {
		t.Fatalf("limit_data: got %q, %v", got, err)
	}

	// reset_peer: the client sees a reset.
	if err := client.ResetState(); err != nil {
		t.Fatal(err)
	}
	if _, err := proxy.AddToxic("rst", "reset_peer", "downstream", 1, toxiproxy.Attributes{"timeout": 50}); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", proxy.Listen)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(3 * time.Second))
	_, err = c.Read(make([]byte, 10))
	c.Close()
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("reset_peer: read gave %v, want a connection reset", err)
	}

	// Bad toxics are refused with the reason, as toxiproxy does.
	if _, err := proxy.AddToxic("x", "lag", "downstream", 1, nil); err == nil {
		t.Fatal("an unknown toxic type was accepted")
	}
	if _, err := proxy.AddToxic("y", "latency", "sideways", 1, nil); err == nil {
		t.Fatal("an unknown stream was accepted")
	}

	// Disable closes the listener; Enable opens it again.
	if err := proxy.Disable(); err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", proxy.Listen, time.Second); err == nil {
		t.Fatal("a disabled proxy accepted a connection")
	}
	if err := proxy.Enable(); err != nil {
		t.Fatal(err)
	}
	client.ResetState()
	if got, _, err := roundTrip(t, proxy.Listen, msg); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("after enable and reset: %q, %v", got, err)
	}
	proxies, err := client.Proxies()
	if err != nil || len(proxies) != 1 || proxies["echo"].Upstream != upstream {
		t.Fatalf("proxies %+v, %v", proxies, err)
	}
	if err := proxy.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Proxy("echo"); err == nil {
		t.Fatal("a deleted proxy is still there")
	}
}

func TestBandwidthAndSlicer(t *testing.T) {
	upstream := echoServer(t)
	p := &TCPProxy{Name: "bw", Listen: "127.0.0.1:0", Upstream: upstream}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	// 100 KB/s downstream: 50 KB take about half a second.
	if _, err := p.AddToxic(Toxic{Type: "bandwidth", Attributes: map[string]any{"rate": 100}}); err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("x"), 50000)
	got, d, err := roundTrip(t, p.Listen, msg)
	if err != nil || !bytes.Equal(got, msg) || d < 400*time.Millisecond || d > 3*time.Second {
		t.Fatalf("50 KB at 100 KB/s: %v (%v)", d, err)
	}
	p.ResetToxics()
	// A slicer delivers every byte, in order.
	if _, err := p.AddToxic(Toxic{Type: "slicer", Stream: "upstream", Toxicity: 1, Attributes: map[string]any{"average_size": 10, "size_variation": 5, "delay": 10}}); err != nil {
		t.Fatal(err)
	}
	msg = []byte("0123456789abcdefghijklmnopqrstuvwxyz")
	if got, _, err := roundTrip(t, p.Listen, msg); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("slicer: %q, %v", got, err)
	}
}

func TestToxicCheck(t *testing.T) {
	for _, tc := range []Toxic{
		{Type: "latency", Attributes: map[string]any{"latency": -1.0}},
		{Type: "latency", Attributes: map[string]any{"delay": 1.0}},
		{Type: "bandwidth"},
		{Type: "latency", Toxicity: 2},
		{Type: "latency", Attributes: map[string]any{"latency": "soon"}},
	} {
		if err := tc.Check(); err == nil {
			t.Errorf("%+v was accepted", tc)
		}
	}
	ok := Toxic{Type: "latency", Toxicity: 1, Attributes: map[string]any{"latency": 5.0}}
	if err := ok.Check(); err != nil || ok.Name != "latency_downstream" || ok.Attributes["jitter"] != 0.0 {
		t.Fatalf("%+v, %v", ok, err)
	}
}

// netkit's extension: a UDP proxy through the same API, its faults
// changed while datagrams flow.
func TestAPIUDPProxy(t *testing.T) {
	echo, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := echo.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			echo.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	api, client := apiClient(t)
	proxy, err := client.CreateProxy("dns", "udp://127.0.0.1:0", "udp://"+echo.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("udp", strings.TrimPrefix(proxy.Listen, "udp://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	echoes := func(n int) int {
		got := 0
		buf := make([]byte, 100)
		for i := range n {
			fmt.Fprintf(c, "ping %d", i)
			c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			if _, err := c.Read(buf); err == nil {
				got++
			}
		}
		return got
	}
	if n := echoes(5); n != 5 {
		t.Fatalf("%d of 5 echoes through a clean UDP proxy", n)
	}
	if _, err := proxy.AddToxic("blackhole", "loss", "upstream", 1, toxiproxy.Attributes{"percent": 100}); err != nil {
		t.Fatal(err)
	}
	if n := echoes(3); n != 0 {
		t.Fatalf("%d echoes with 100%% loss", n)
	}
	if _, err := proxy.AddToxic("x", "slicer", "upstream", 1, nil); err == nil {
		t.Fatal("a TCP-only toxic was accepted on a UDP proxy")
	}
	if err := proxy.RemoveToxic("blackhole"); err != nil {
		t.Fatal(err)
	}
	if n := echoes(3); n != 3 {
		t.Fatalf("%d of 3 echoes after the loss was removed", n)
	}
	st := api.Proxy("dns").(*UDPProxy).Stats()
	if st.Up.Lost != 3 || st.Up.Received != 11 {
		t.Fatalf("stats %+v", st.Up)
	}
}

// Latency is a delay line: 4 MiB through 50 ms each way arrives about
// 100 ms after it was sent, not a chunk per 50 ms (which would take 6 s
// or more), as toxiproxy's latency behaves.
func TestLatencyIsADelayLine(t *testing.T) {
	upstream := echoServer(t)
	_, client := apiClient(t)
	proxy, err := client.CreateProxy("line", "127.0.0.1:0", upstream)
	if err != nil {
		t.Fatal(err)
	}
	for _, stream := range []string{"upstream", "downstream"} {
		if _, err := proxy.AddToxic("", "latency", stream, 1, toxiproxy.Attributes{"latency": 50}); err != nil {
			t.Fatal(err)
		}
	}
	msg := bytes.Repeat([]byte("0123456789abcdef"), 4<<20/16)
	c, err := net.Dial("tcp", proxy.Listen)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	start := time.Now()
	go c.Write(msg)
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("4 MiB through the latency: %v", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 3*time.Second {
		t.Errorf("4 MiB echoed through 50 ms each way in %v: want a little over 100 ms, far under the 6.4 s of one 32 KiB chunk a latency", d)
	}
}
