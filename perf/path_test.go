package perf

import (
	"context"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/internal/testutil"
)

// startServer runs a perf server on loopback and returns its address.
func startServer(t *testing.T) string {
	t.Helper()
	l := testutil.Listen(t, "tcp4")
	pc, err := net.ListenPacket("udp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var s Server
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l, pc) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return l.Addr().String()
}

func TestTCPModes(t *testing.T) {
	addr := startServer(t)
	for _, p := range []Params{
		{Mode: Send, Duration: 300 * time.Millisecond},
		{Mode: Recv, Duration: 300 * time.Millisecond, Streams: 2},
		{Mode: Bidir, Duration: 300 * time.Millisecond, Streams: 3},
		{Mode: Send, Bytes: 10 << 20, Streams: 3, Block: 4000},
		{Mode: Recv, Bytes: 1 << 20},
		{Mode: Send, Duration: 500 * time.Millisecond, Bitrate: 80e6},
	} {
		var ivs atomic.Int32
		rep, err := Run(context.Background(), ClientConfig{Server: endpoint.MustParse("tcp://" + addr), Params: p, Interval: 100 * time.Millisecond, OnInterval: func(Interval) { ivs.Add(1) }})
		if err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		if p.Mode != Recv && (rep.Up == nil || rep.Up.RecvBytes != rep.Up.SentBytes || rep.Up.BPS <= 0) {
			t.Errorf("%+v: up %+v", p, rep.Up)
		}
		if p.Mode != Send && (rep.Down == nil || rep.Down.RecvBytes != rep.Down.SentBytes || rep.Down.BPS <= 0) {
			t.Errorf("%+v: down %+v", p, rep.Down)
		}
		if p.Bytes > 0 {
			d := rep.Up
			if d == nil {
				d = rep.Down
			}
			if d.RecvBytes != p.Bytes {
				t.Errorf("-n %d: received %d", p.Bytes, d.RecvBytes)
			}
		}
		if p.Bitrate > 0 {
			// 80 Mbit/s for half a second is 5 MB: paced, not flat out.
			if got := rep.Up.RecvBytes; got < 3e6 || got > 7e6 {
				t.Errorf("at 80 Mbit/s for 0.5 s: %d bytes", got)
			}
		}
		if p.Duration > 0 && ivs.Load() < 2 {
			t.Errorf("%+v: %d interval reports", p, ivs.Load())
		}
	}
}

func TestUDPModes(t *testing.T) {
	addr := startServer(t)
	for _, p := range []Params{
		{Proto: "udp", Mode: Send, Duration: 300 * time.Millisecond, Bitrate: 20e6},
		{Proto: "udp", Mode: Recv, Duration: 300 * time.Millisecond, Bitrate: 20e6, Streams: 2},
		{Proto: "udp", Mode: Bidir, Duration: 300 * time.Millisecond, Bitrate: 10e6},
	} {
		rep, err := Run(context.Background(), ClientConfig{Server: endpoint.MustParse("tcp://" + addr), Params: p, Interval: -1})
		if err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		for _, d := range []*Direction{rep.Up, rep.Down} {
			if d == nil {
				continue
			}
			if len(d.UDP) != max(p.Streams, 1) || d.UDP[0].Sent == 0 || d.UDP[0].Duplicates != 0 {
				t.Errorf("%+v: %+v", p, d)
			}
			// Loopback at 20 Mbit/s loses nothing, or what it loses is
			// counted as the host's own buffer drops.
			if d.Lost != 0 && d.RcvbufErrors == 0 {
				t.Errorf("%+v: %d lost on loopback", p, d.Lost)
			}
		}
		if (p.Mode == Send) != (rep.Down == nil) || (p.Mode == Recv) != (rep.Up == nil) {
			t.Errorf("%+v: up %v down %v", p, rep.Up != nil, rep.Down != nil)
		}
	}
}

func TestRR(t *testing.T) {
	addr := startServer(t)
	for _, proto := range []string{"tcp", "udp"} {
		rep, err := Run(context.Background(), ClientConfig{Server: endpoint.MustParse("tcp://" + addr), Params: Params{Proto: proto, Mode: RR, Duration: 300 * time.Millisecond, Streams: 2}, Interval: -1})
		if err != nil {
			t.Fatal(proto, err)
		}
		rr := rep.RR
		if rr == nil || rr.Transactions < 100 || rr.P50us <= 0 || rr.P99us < rr.P50us || rr.P999us < rr.P99us || rr.Lost != 0 {
			t.Errorf("%s: %+v", proto, rr)
		}
	}
}

// Several tests at once on one server.
func TestConcurrentTests(t *testing.T) {
	addr := startServer(t)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := Params{Mode: Send, Duration: 300 * time.Millisecond}
			if i%2 == 1 {
				p = Params{Proto: "udp", Mode: Send, Duration: 300 * time.Millisecond, Bitrate: 5e6}
			}
			if _, err := Run(context.Background(), ClientConfig{Server: endpoint.MustParse("tcp://" + addr), Params: p, Interval: -1}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

// lossyForwarder relays datagrams from clients to target, dropping every
// nth one on the way there, and relays the answers back.
func lossyForwarder(t *testing.T, target string, every int) string {
	in, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	out, err := net.Dial("udp4", target)
	if err != nil {
		t.Fatal(err)
	}
	var client atomic.Pointer[net.Addr]
	go func() {
		buf := make([]byte, 65536)
		for {
			n, err := out.Read(buf)
			if err != nil {
				return
			}
			if a := client.Load(); a != nil {
				in.WriteTo(buf[:n], *a)
			}
		}
	}()
	go func() {
		buf := make([]byte, 65536)
		for i := 0; ; i++ {
			n, a, err := in.ReadFrom(buf)
			if err != nil {
				return
			}
			client.Store(&a)
			if h, ok := parseHeader(buf[:n]); ok && h.flags&flagHello == 0 && i%every == every-1 {
				continue
			}
			out.Write(buf[:n])
		}
	}()
	t.Cleanup(func() { in.Close(); out.Close() })
	return in.LocalAddr().String()
}

func TestUDPLossIsReported(t *testing.T) {
	addr := startServer(t)
	fwd := lossyForwarder(t, addr, 20) // 5%
	rep, err := Run(context.Background(), ClientConfig{Server: endpoint.MustParse("tcp://" + addr), UDPAddr: endpoint.MustParse("udp://" + fwd), Params: Params{Proto: "udp", Mode: Send, Duration: 500 * time.Millisecond, Bitrate: 20e6}, Interval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Up.LossPercent; math.Abs(got-5) > 1 {
		t.Errorf("loss %.2f%%, injected 5%% (%+v)", got, rep.Up)
	}
}

func TestBadParams(t *testing.T) {
	for _, p := range []Params{
		{Proto: "sctp"}, {Mode: "sideways"}, {Streams: 1000}, {Block: maxBlock + 1},
		{Proto: "udp", Block: 10}, {Duration: -time.Second}, {Bitrate: -1},
	} {
		if err := p.Check(); err == nil {
			t.Errorf("%+v accepted", p)
		}
	}
}

func TestJitter(t *testing.T) {
	var s udpRecv
	base := time.Unix(1000, 0)
	// Sent every 10 ms; arrivals alternate 1 ms and 3 ms late: |D| = 2 ms each time.
	for i := range 2000 {
		sent := base.Add(time.Duration(i) * 10 * time.Millisecond)
		delay := time.Millisecond
		if i%2 == 1 {
			delay = 3 * time.Millisecond
		}
		s.record(uint64(i), sent.UnixNano(), 100, sent.Add(delay))
	}
	st := s.finish(2000)
	if math.Abs(st.JitterMS-2) > 0.01 || st.Lost != 0 || st.OutOfOrder != 0 {
		t.Errorf("%+v; want jitter 2 ms", st)
	}
	var r udpRecv
	for _, seq := range []uint64{0, 2, 1, 2, 4} {
		r.record(seq, 0, 10, time.Now())
	}
	st = r.finish(6)
	if st.Received != 4 || st.Duplicates != 1 || st.OutOfOrder != 1 || st.Lost != 2 {
		t.Errorf("%+v", st)
	}
}
