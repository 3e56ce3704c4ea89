package rudp

import (
	"bytes"
	"container/heap"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/impair"
)

// A deterministic simulation: two connections, no goroutines and no
// sockets, on impair's virtual clock. Each datagram one of them sends
// crosses a simulated path (delay, loss, reordering, duplication, bit
// flips, all from one seeded generator) and is handed to the other's input
// when the clock reaches its arrival time. The same seed gives the same
// run, packet for packet, in a few milliseconds of real time however many
// seconds the transfer takes on the virtual clock.

// simPath is one direction's faults.
type simPath struct {
	Delay, Jitter      time.Duration
	Loss, Dup, Corrupt float64
	Reorder            float64          // held back by another Delay
	Drop               func(n int) bool // scripted: drop the n-th datagram (from 1)
}

type arrival struct {
	at   time.Time
	seq  int // tie-break: the order they were sent
	to   *Conn
	data []byte
}

type arrivals []arrival

func (a arrivals) Len() int { return len(a) }
func (a arrivals) Less(i, j int) bool {
	if !a[i].at.Equal(a[j].at) {
		return a[i].at.Before(a[j].at)
	}
	return a[i].seq < a[j].seq
}
func (a arrivals) Swap(i, j int) { a[i], a[j] = a[j], a[i] }
func (a *arrivals) Push(x any)   { *a = append(*a, x.(arrival)) }
func (a *arrivals) Pop() any {
	old := *a
	x := old[len(old)-1]
	*a = old[:len(old)-1]
	return x
}

// deliver hands every datagram due by now to its connection.
func (a *arrivals) deliver(now time.Time) {
	for len(*a) > 0 && !(*a)[0].at.After(now) {
		ar := heap.Pop(a).(arrival)
		var p packet
		if p.decode(ar.data) == nil {
			ar.to.input(&p)
		}
	}
}

type simResult struct {
	got     []byte
	elapsed time.Duration // on the virtual clock
	sender  Stats
	receive Stats
	trace   []string
	sent    [2]int // datagrams sent each way
}

// simulate moves data from a to b over the paths, up and down, and
// returns what b read. It fails the test if the transfer does not end
// within limit of virtual time.
func simulate(t *testing.T, seed uint64, up, down simPath, data []byte, cfg Config, limit time.Duration) simResult {
	t.Helper()
	clock := impair.NewVirtualClock(time.Unix(1_700_000_000, 0))
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var q arrivals
	var res simResult
	nsent := 0
	cfg.clock, cfg.manual, cfg.seed = clock.Now, true, seed
	var traceCfg = cfg
	traceCfg.Trace = func(ev TraceEvent) { res.trace = append(res.trace, ev.String()) }
	var a, b *Conn
	send := func(dir int, path simPath, to **Conn) func([][]byte) error {
		return func(dgrams [][]byte) error {
			for _, d := range dgrams {
				res.sent[dir]++
				n := res.sent[dir]
				if path.Drop != nil && path.Drop(n) || rng.Float64() < path.Loss {
					continue
				}
				copies := 1
				if rng.Float64() < path.Dup {
					copies = 2
				}
				for range copies {
					delay := path.Delay
					if path.Jitter > 0 {
						delay += time.Duration(rng.Int64N(int64(2*path.Jitter))) - path.Jitter
					}
					if rng.Float64() < path.Reorder {
						delay += path.Delay
					}
					c := bytes.Clone(d)
					if rng.Float64() < path.Corrupt {
						bit := rng.IntN(8 * len(c))
						c[bit/8] ^= 1 << (bit % 8)
					}
					nsent++
					heap.Push(&q, arrival{at: clock.Now().Add(max(delay, 0)), seq: nsent, to: *to, data: c})
				}
			}
			return nil
		}
	}
	la := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1}
	lb := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 2), Port: 2}
	a = newConn(traceCfg, la, lb, 1, 2, fecFlags(cfg), send(0, up, &b), nil)
	b = newConn(cfg, lb, la, 2, 1, fecFlags(traceCfg), send(1, down, &a), nil)
	// The sender's application writes what the send buffer takes, each
	// step: a Write that blocked would stop the one goroutine that runs
	// both ends.
	rest, finished := data, false
	feed := func() {
		if finished {
			return
		}
		a.mu.Lock()
		k := max(min(a.room(), len(rest)), 0)
		a.pending.push(rest[:k], a.mss)
		a.mu.Unlock()
		if rest = rest[k:]; len(rest) == 0 {
			finished = true
			if err := a.CloseWrite(); err != nil {
				t.Fatal(err)
			}
		}
	}
	start := clock.Now()
	for {
		feed()
		_, nextA := a.tick()
		_, nextB := b.tick()
		b.mu.Lock()
		res.got = append(res.got, b.readBuf[b.readOff:]...)
		b.readBuf, b.readOff = b.readBuf[:0], 0
		eof := b.eof
		b.mu.Unlock()
		if eof {
			break
		}
		if clock.Now().Sub(start) > limit {
			t.Fatalf("seed %d: %d of %d bytes after %v of virtual time; sender %+v", seed, len(res.got), len(data), limit, a.Stats())
		}
		step := min(nextA, nextB)
		if len(q) > 0 {
			step = min(step, q[0].at.Sub(clock.Now()))
		}
		clock.Advance(max(step, 0))
		q.deliver(clock.Now())
	}
	res.elapsed = clock.Now().Sub(start)
	res.sender, res.receive = a.Stats(), b.Stats()
	return res
}

func simData(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestSimulatedPaths moves 2 MiB across paths from clean to very bad: it
// arrives whole every time, on every seed.
func TestSimulatedPaths(t *testing.T) {
	data := simData(2 << 20)
	for _, tc := range []struct {
		name string
		path simPath
	}{
		{"clean 10ms", simPath{Delay: 10 * time.Millisecond}},
		{"5% loss", simPath{Delay: 10 * time.Millisecond, Loss: 0.05}},
		{"30% loss", simPath{Delay: 10 * time.Millisecond, Loss: 0.30}},
		{"jitter and reordering", simPath{Delay: 20 * time.Millisecond, Jitter: 8 * time.Millisecond, Reorder: 0.05}},
		{"duplicates and bit flips", simPath{Delay: 5 * time.Millisecond, Dup: 0.05, Corrupt: 0.02, Loss: 0.01}},
	} {
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprintf("%s/seed%d", tc.name, seed), func(t *testing.T) {
				r := simulate(t, seed, tc.path, tc.path, data, Config{}, 10*time.Minute)
				if !bytes.Equal(r.got, data) {
					t.Fatalf("received %d bytes, not the %d sent", len(r.got), len(data))
				}
				// The sender is fed all the buffer takes, so on a clean path
				// only the tail, sent once the data ran out, counts as
				// application-limited (on a lossy one, so do the resends
				// after it).
				if al := r.sender.AppLimited; tc.name == "clean 10ms" && (al == 0 || al > 16) {
					t.Errorf("%d of %d packets counted application-limited, not just the tail", al, r.sender.Sent)
				}
				t.Logf("%v of virtual time (%.1f Mbit/s), %d datagrams up, %d down, %d resent, %d timeouts, %d application-limited",
					r.elapsed.Round(time.Millisecond), float64(8*len(data))/r.elapsed.Seconds()/1e6, r.sent[0], r.sent[1], r.sender.Retransmitted, r.sender.Timeouts, r.sender.AppLimited)
			})
		}
	}
}

// TestSimulationIsDeterministic: the same seed gives the same run, to the
// packet and the microsecond.
func TestSimulationIsDeterministic(t *testing.T) {
	data := simData(256 << 10)
	path := simPath{Delay: 10 * time.Millisecond, Jitter: 3 * time.Millisecond, Loss: 0.1, Reorder: 0.02, Dup: 0.02}
	one := simulate(t, 42, path, path, data, Config{}, time.Minute)
	two := simulate(t, 42, path, path, data, Config{}, time.Minute)
	if one.elapsed != two.elapsed || one.sent != two.sent || strings.Join(one.trace, "\n") != strings.Join(two.trace, "\n") {
		t.Fatalf("two runs of seed 42 differ: %v %v %v and %v %v %v", one.elapsed, one.sent, len(one.trace), two.elapsed, two.sent, len(two.trace))
	}
	other := simulate(t, 43, path, path, data, Config{}, time.Minute)
	if other.elapsed == one.elapsed && other.sent == one.sent {
		t.Fatal("seed 43 ran as seed 42 did: the seed does not reach the path")
	}
}

// TestSimulatedEnvelope13 is the tutorials' story on the virtual clock:
// datagram 13 is lost once; the receiver's selective acknowledgement shows
// the gap, and the sender sends 13 again, once, without waiting for a
// timeout.
func TestSimulatedEnvelope13(t *testing.T) {
	data := simData(40 * 1300)
	path := simPath{Delay: 10 * time.Millisecond}
	up := path
	up.Drop = func(n int) bool { return n == 13 }
	r := simulate(t, 1, up, path, data, Config{}, time.Minute)
	if !bytes.Equal(r.got, data) {
		t.Fatal("the data did not arrive whole")
	}
	if r.sender.Retransmitted != 1 || r.sender.Timeouts != 0 {
		t.Fatalf("%d resent and %d timeouts; want 13 sent again once, no timeout", r.sender.Retransmitted, r.sender.Timeouts)
	}
	var lost, resent bool
	for _, line := range r.trace {
		lost = lost || strings.Contains(line, "lost") && strings.Contains(line, "packet 13:")
		resent = resent || strings.Contains(line, "resend") && strings.Contains(line, "packet 13 ")
	}
	if !lost || !resent {
		t.Fatalf("the trace does not tell of 13 lost and sent again:\n%s", strings.Join(r.trace, "\n"))
	}
}

// TestSimulatedFEC: with FEC, packets lost on a lossy path are rebuilt
// from parity at the receiver, and the data arrives whole; a lone lost
// packet of a trickle (the last of a transfer, whose group never fills)
// is rebuilt from the parity that the flush sends, without the sender's
// retransmission timeout.
func TestSimulatedFEC(t *testing.T) {
	data := simData(1 << 20)
	for _, loss := range []float64{0.01, 0.05, 0.20} {
		path := simPath{Delay: 10 * time.Millisecond, Loss: loss}
		for seed := uint64(1); seed <= 2; seed++ {
			r := simulate(t, seed, path, path, data, Config{FEC: true}, 10*time.Minute)
			if !bytes.Equal(r.got, data) {
				t.Fatalf("loss %v seed %d: received %d bytes, not the %d sent", loss, seed, len(r.got), len(data))
			}
			if r.sender.FECSent == 0 || r.receive.FECRecovered == 0 {
				t.Errorf("loss %v seed %d: %d parity sent, %d recovered", loss, seed, r.sender.FECSent, r.receive.FECRecovered)
			}
			t.Logf("loss %v seed %d: %v, %d resent, %d parity sent, %d rebuilt", loss, seed, r.elapsed.Round(time.Millisecond),
				r.sender.Retransmitted, r.sender.FECSent, r.receive.FECRecovered)
		}
	}
	// Without FEC on the sender, none is sent, whatever the receiver does.
	r := simulate(t, 1, simPath{Delay: 10 * time.Millisecond, Loss: 0.05}, simPath{Delay: 10 * time.Millisecond}, data, Config{}, 10*time.Minute)
	if r.sender.FECSent != 0 || r.receive.FECRecovered != 0 {
		t.Errorf("FEC off: %d parity sent, %d recovered", r.sender.FECSent, r.receive.FECRecovered)
	}

	// A trickle: three packets, the second lost. The group never fills;
	// its flush sends parity, which rebuilds the second.
	small := simData(3 * 1200)
	up := simPath{Delay: 10 * time.Millisecond, Drop: func(n int) bool { return n == 2 }}
	r = simulate(t, 1, up, simPath{Delay: 10 * time.Millisecond}, small, Config{FEC: true}, time.Minute)
	if !bytes.Equal(r.got, small) {
		t.Fatal("the trickle did not arrive whole")
	}
	if r.receive.FECRecovered != 1 || r.sender.Timeouts != 0 {
		t.Errorf("trickle: %d rebuilt, %d timeouts; want 1 rebuilt, no timeout\n%s", r.receive.FECRecovered, r.sender.Timeouts, strings.Join(r.trace, "\n"))
	}
}
