package impair

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func decideN(l *Link, n int, size int, gap time.Duration) []Decision {
	var out []Decision
	for i := range n {
		out = append(out, l.Decide(make([]byte, size), time.Duration(i)*gap))
	}
	return out
}

func TestSameSeedSameDecisions(t *testing.T) {
	f := Faults{Loss: 0.1, Delay: 5 * time.Millisecond, Jitter: 2 * time.Millisecond, Duplicate: 0.05, Reorder: 0.05, Corrupt: 0.05}
	a := decideN(NewLink(f, 7), 2000, 100, time.Millisecond)
	b := decideN(NewLink(f, 7), 2000, 100, time.Millisecond)
	c := decideN(NewLink(f, 8), 2000, 100, time.Millisecond)
	str := func(ds []Decision) string {
		var s strings.Builder
		for _, d := range ds {
			s.WriteString(d.String() + "\n")
		}
		return s.String()
	}
	if str(a) != str(b) {
		t.Fatal("the same seed gave different decisions")
	}
	if str(a) == str(c) {
		t.Fatal("different seeds gave the same decisions")
	}
}

func TestLossRates(t *testing.T) {
	const n = 100000
	for _, tc := range []struct {
		name string
		f    Faults
		want float64
	}{
		{"none", Faults{}, 0},
		{"5%", Faults{Loss: 0.05}, 0.05},
		{"30%", Faults{Loss: 0.30}, 0.30},
		// Gilbert-Elliott: stationary share of Bad is P/(P+R) = 0.01/0.11.
		{"gilbert-elliott", Faults{GilbertElliott: &GilbertElliott{P: 0.01, R: 0.1}}, 0.01 / 0.11},
	} {
		l := NewLink(tc.f, 1)
		decideN(l, n, 10, 0)
		got := float64(l.Counters().Lost) / n
		if math.Abs(got-tc.want) > 0.01 {
			t.Errorf("%s: lost %.4f, want %.4f", tc.name, got, tc.want)
		}
		if c := l.Counters(); c.Delivered+c.Dropped() != n {
			t.Errorf("%s: %d delivered + %d dropped != %d received", tc.name, c.Delivered, c.Dropped(), c.Received)
		}
	}
}

func TestGilbertElliottLossesComeInBursts(t *testing.T) {
	runs := func(f Faults) float64 {
		l := NewLink(f, 3)
		bursts, lost := 0, 0
		prev := false
		for _, d := range decideN(l, 100000, 10, 0) {
			isLost := d.Verdict == Lost
			if isLost {
				lost++
				if !prev {
					bursts++
				}
			}
			prev = isLost
		}
		return float64(lost) / float64(bursts)
	}
	random := runs(Faults{Loss: 0.09})
	ge := runs(Faults{GilbertElliott: &GilbertElliott{P: 0.01, R: 0.1}})
	if random > 1.2 || ge < 5 {
		t.Fatalf("mean burst length: random %.2f (want about 1.1), Gilbert-Elliott %.2f (want about 10)", random, ge)
	}
}

func TestBottleneckQueuesThenDropsAtTheTail(t *testing.T) {
	// 8 Mbit/s: a 1000-byte datagram takes 1 ms on the wire. A queue of
	// 10,000 bytes holds ten; a burst of 20 at once loses the last ten.
	l := NewLink(Faults{Rate: 8e6, Queue: 10000}, 1)
	ds := decideN(l, 20, 1000, 0)
	for i, d := range ds {
		if i < 10 {
			if d.Verdict != Delivered || d.Delays[0] != time.Duration(i+1)*time.Millisecond {
				t.Fatalf("datagram %d: %v, want delivered after %d ms", i+1, d, i+1)
			}
		} else if d.Verdict != QueueFull {
			t.Fatalf("datagram %d: %v, want queue-full", i+1, d)
		}
	}
	// Once the queue has drained, datagrams pass again.
	if d := l.Decide(make([]byte, 1000), 50*time.Millisecond); d.Verdict != Delivered || d.Delays[0] != time.Millisecond {
		t.Fatalf("after the queue drained: %v", d)
	}
}

func TestScriptPartitionAndMTU(t *testing.T) {
	f := Faults{
		Script: []Rule{{Nth: 13}, {First: 2}, {Match: []byte("secret"), Times: 1}},
		Down:   []Window{{At: 100 * time.Millisecond, For: 50 * time.Millisecond}},
		MTU:    500,
	}
	l := NewLink(f, 1)
	verdicts := map[int]Verdict{}
	for i := 1; i <= 30; i++ {
		p := []byte("envelope " + fmt.Sprint(i))
		if i == 20 || i == 21 {
			p = []byte("a secret")
		}
		if i == 22 {
			p = make([]byte, 501)
		}
		at := time.Duration(i) * time.Millisecond
		if i == 25 {
			at = 120 * time.Millisecond
		}
		verdicts[i] = l.Decide(p, at).Verdict
	}
	want := map[int]Verdict{1: ScriptDrop, 2: ScriptDrop, 13: ScriptDrop, 20: ScriptDrop, 21: Delivered, 22: TooBig, 25: LinkDown}
	for i := 1; i <= 30; i++ {
		w, ok := want[i]
		if !ok {
			w = Delivered
		}
		if verdicts[i] != w {
			t.Errorf("datagram %d: %s, want %s", i, verdicts[i], w)
		}
	}
}

func TestCorruptFlipsOneBit(t *testing.T) {
	l := NewLink(Faults{Corrupt: 1}, 1)
	p := bytes.Repeat([]byte{0}, 64)
	if d := l.Decide(p, 0); !d.Corrupted {
		t.Fatal("not corrupted")
	}
	bits := 0
	for _, b := range p {
		for ; b != 0; b &= b - 1 {
			bits++
		}
	}
	if bits != 1 {
		t.Fatalf("%d bits flipped, want 1", bits)
	}
}

// On a virtual clock nothing moves until the test says so, and the
// datagrams come out in the order of their delays: the reordered one
// last.
func TestConnOnVirtualClock(t *testing.T) {
	rx, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	clock := NewVirtualClock(time.Unix(0, 0))
	c := NewConn(tx, Faults{Delay: 10 * time.Millisecond, Script: []Rule{{Nth: 2}}, Reorder: 0}, 1, clock)
	defer c.Close()
	var log []string
	c.OnDecision(func(d Decision) { log = append(log, d.String()) })
	for i := 1; i <= 3; i++ {
		c.WriteTo([]byte{byte(i)}, rx.LocalAddr())
	}
	if clock.Pending() != 2 {
		t.Fatalf("%d datagrams waiting, want 2 (one dropped)", clock.Pending())
	}
	rx.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	buf := make([]byte, 10)
	if _, _, err := rx.ReadFrom(buf); err == nil {
		t.Fatal("a datagram arrived before the clock moved")
	}
	clock.Advance(10 * time.Millisecond)
	var got []byte
	for range 2 {
		rx.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _, err := rx.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.Equal(got, []byte{1, 3}) {
		t.Fatalf("got %v, want [1 3]", got)
	}
	want := []string{"1 1B delivered +10ms", "2 1B script-drop", "3 1B delivered +10ms"}
	if !slices.Equal(log, want) {
		t.Fatalf("decisions %q, want %q", log, want)
	}
}

// The tutorials' story: twenty envelopes over UDP, number 13 lost on the
// way, and nobody asks for it again.
func TestProxyDropsEnvelope13(t *testing.T) {
	server, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	go func() { // an echo server
		buf := make([]byte, 2048)
		for {
			n, from, err := server.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			server.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	front, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var ups []string
	p := &Proxy{To: server.LocalAddr().String(), Up: Faults{Script: []Rule{{Nth: 13}}}, Down: Faults{Delay: time.Millisecond},
		Decided: func(dir string, _ netip.AddrPort, d Decision) {
			if dir == "up" {
				mu.Lock()
				ups = append(ups, string(d.Verdict))
				mu.Unlock()
			}
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, front) }()
	t.Cleanup(func() { cancel(); <-done })

	c, err := net.Dial("udp", front.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(c, "envelope %d", i)
		time.Sleep(time.Millisecond) // keep them in order on loopback
	}
	got := map[string]bool{}
	buf := make([]byte, 100)
	for {
		c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		n, err := c.Read(buf)
		if err != nil {
			break
		}
		got[string(buf[:n])] = true
	}
	if len(got) != 19 || got["envelope 13"] {
		t.Fatalf("echoed %d envelopes (13 among them: %v), want the 19 others", len(got), got["envelope 13"])
	}
	st := p.Stats()
	if st.Up.Received != 20 || st.Up.Scripted != 1 || st.Down.Received != 19 || st.Sessions != 1 {
		t.Fatalf("stats %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if ups[12] != string(ScriptDrop) {
		t.Fatalf("decision 13 was %s", ups[12])
	}
}

func TestParsers(t *testing.T) {
	for in, want := range map[string]float64{"5%": 0.05, "0.1%": 0.001, "0.25": 0.25, "100%": 1, "0": 0} {
		if got, err := ParseProbability(in); err != nil || math.Abs(got-want) > 1e-12 {
			t.Errorf("ParseProbability(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "5", "-1%", "101%", "NaN", "x%"} {
		if _, err := ParseProbability(in); err == nil {
			t.Errorf("ParseProbability(%q) accepted", in)
		}
	}
	if w, err := ParseWindow("2s@10s"); err != nil || w != (Window{At: 10 * time.Second, For: 2 * time.Second}) {
		t.Errorf("ParseWindow = %v, %v", w, err)
	}
	for _, in := range []string{"2s", "0s@1s", "2s@-1s", "x@1s"} {
		if _, err := ParseWindow(in); err == nil {
			t.Errorf("ParseWindow(%q) accepted", in)
		}
	}
	for in, want := range map[string]string{"13": "datagram 13", "first:2": "the first 2", "match:abc*2": `datagrams with "abc"`} {
		if r, err := ParseRule(in); err != nil || r.String() != want {
			t.Errorf("ParseRule(%q) = %v, %v", in, r, err)
		}
	}
	for _, in := range []string{"0", "13*2", "first:0", "match:", "match:x*0", "what"} {
		if _, err := ParseRule(in); err == nil {
			t.Errorf("ParseRule(%q) accepted", in)
		}
	}
	if ge, err := ParseGilbertElliott("1%,10%"); err != nil || ge.P != 0.01 || ge.R != 0.1 || ge.LossBad != 1 {
		t.Errorf("ParseGilbertElliott = %+v, %v", ge, err)
	}
	if _, err := ParseGilbertElliott("1%"); err == nil {
		t.Error("ParseGilbertElliott took one number")
	}
}

func FuzzParsers(f *testing.F) {
	for _, s := range []string{"5%", "2s@10s", "13", "first:3", "match:x*2", "1%,10%,50%,0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := ParseProbability(s); err == nil && (p < 0 || p > 1) {
			t.Fatalf("ParseProbability(%q) = %v", s, p)
		}
		if w, err := ParseWindow(s); err == nil && (w.For <= 0 || w.At < 0) {
			t.Fatalf("ParseWindow(%q) = %v", s, w)
		}
		if r, err := ParseRule(s); err == nil && r.Nth <= 0 && r.First <= 0 && len(r.Match) == 0 {
			t.Fatalf("ParseRule(%q) = %+v matches nothing", s, r)
		}
		if ge, err := ParseGilbertElliott(s); err == nil && (ge.P < 0 || ge.P > 1 || ge.R < 0 || ge.R > 1) {
			t.Fatalf("ParseGilbertElliott(%q) = %+v", s, ge)
		}
	})
}

func BenchmarkDecide(b *testing.B) {
	l := NewLink(Faults{Loss: 0.01, Delay: 10 * time.Millisecond, Jitter: time.Millisecond, Rate: 1e9, Duplicate: 0.001, Corrupt: 0.001}, 1)
	p := make([]byte, 1400)
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for i := 0; b.Loop(); i++ {
		l.Decide(p, time.Duration(i)*time.Microsecond)
	}
}

// Two proxies on one Path share its numbering and its bottleneck: the
// second datagram overall is the one a "drop 2" script takes, whichever
// proxy carried it.
func TestProxiesShareAPath(t *testing.T) {
	echo := func() string {
		pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pc.Close() })
		go func() {
			buf := make([]byte, 100)
			for {
				n, from, err := pc.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				pc.WriteToUDPAddrPort(buf[:n], from)
			}
		}()
		return pc.LocalAddr().String()
	}
	path := NewPath(Faults{Script: []Rule{{Nth: 2}}}, Faults{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	var fronts []string
	for range 2 {
		front, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		p := &Proxy{To: echo(), Path: path}
		wg.Go(func() { p.Serve(ctx, front) })
		fronts = append(fronts, front.LocalAddr().String())
	}
	got := 0
	for i, f := range []string{fronts[0], fronts[1], fronts[0]} {
		c, err := net.Dial("udp", f)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "datagram %d", i+1)
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if _, err := c.Read(make([]byte, 100)); err == nil {
			got++
		} else if i != 1 {
			t.Errorf("datagram %d was lost", i+1)
		}
		c.Close()
	}
	up, _ := path.Counters()
	if got != 2 || up.Scripted != 1 || up.Received != 3 {
		t.Fatalf("%d echoes; up %+v", got, up)
	}
}
