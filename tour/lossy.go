package tour

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/netkit-dev/netkit/impair"
	"github.com/netkit-dev/netkit/inetd"
	"github.com/netkit-dev/netkit/rudp"
	"github.com/netkit-dev/netkit/server"
)

// lossy: the tutorials' envelope 13, lost on a broken link on purpose,
// then asked for again.
type lossy struct{}

// Files holds the envelopes for the commands (they travel in one packet,
// which the link loses once).
func (lossy) Files() map[string]string {
	var b strings.Builder
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&b, "envelope %d %s\n", i, strings.Repeat("~", 50))
	}
	return map[string]string{"envelopes.txt": b.String()}
}

// envelopes is a file of twenty envelopes, each big enough to travel in
// a datagram of its own.
func envelopes() string {
	var b strings.Builder
	for i := 1; i <= 20; i++ {
		line := fmt.Sprintf("envelope %d ", i)
		b.WriteString(line + strings.Repeat(".", 1200-len(line)) + "\n")
	}
	return b.String()
}

func (lossy) Name() string  { return "lossy" }
func (lossy) Layer() string { return "transport" }
func (lossy) Idea() string {
	return "a real path loses datagrams and UDP does not notice; numbering, acknowledging and sending again (TCP's job, here rudp's in user space) gets every one through"
}
func (lossy) Commands() []string {
	return []string{
		"netkit serve echo udp://127.0.0.1:12345 &",
		"netkit impair --listen udp://127.0.0.1:12346 --to udp://127.0.0.1:12345 --drop match:13 --only up &",
		"echo envelope 12 | netkit connect udp://127.0.0.1:12346 -q 0.5",
		"echo envelope 13 | netkit connect udp://127.0.0.1:12346 -q 0.5   # prints nothing: lost on the way",
		"netkit receive 127.0.0.1:12347 --dir received &",
		"netkit impair --listen udp://127.0.0.1:12348 --to udp://127.0.0.1:12347 --drop 'match:envelope 13*1' --only up &",
		"netkit send envelopes.txt 127.0.0.1:12348 --trace",
	}
}

func (lossy) Run(ctx context.Context, w io.Writer, e *Env) error {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ps := &server.PacketServer{Handler: inetd.Echo{}}
	done := make(chan struct{})
	go func() { ps.Serve(context.Background(), pc); close(done) }()
	defer func() { ps.Shutdown(context.Background()); <-done }()

	front, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var lost []impair.Decision
	p := &impair.Proxy{
		To: pc.LocalAddr().String(),
		Up: impair.Faults{Delay: 2 * time.Millisecond, Script: []impair.Rule{{Nth: 13}}},
		Decided: func(dir string, _ netip.AddrPort, d impair.Decision) {
			if d.Verdict != impair.Delivered {
				mu.Lock()
				lost = append(lost, d)
				mu.Unlock()
			}
		},
	}
	pctx, cancel := context.WithCancel(ctx)
	served := make(chan struct{})
	go func() { p.Serve(pctx, front); close(served) }()
	defer func() { cancel(); <-served }()
	say(w, "A broken link on purpose: netkit impair between a client and the UDP echo service at %s,", pc.LocalAddr())
	say(w, "set to lose the 13th datagram that crosses it (on a real path, congestion and noise choose).")

	c, err := net.Dial("udp", front.LocalAddr().String())
	if err != nil {
		return err
	}
	defer c.Close()
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(c, "envelope %d", i)
		time.Sleep(time.Millisecond)
	}
	say(w, "client: twenty envelopes sent, numbered 1 to 20.")
	var got []int
	buf := make([]byte, 100)
	for {
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := c.Read(buf)
		if err != nil {
			break
		}
		var k int
		if _, err := fmt.Sscanf(string(buf[:n]), "envelope %d", &k); err == nil {
			got = append(got, k)
		}
	}
	slices.Sort(got)
	var missing []string
	for i := 1; i <= 20; i++ {
		if !slices.Contains(got, i) {
			missing = append(missing, fmt.Sprint(i))
		}
	}
	say(w, "client: %d echoes came back; missing: %s.", len(got), strings.Join(missing, ", "))
	mu.Lock()
	for _, d := range lost {
		say(w, "impair's log: datagram %d (%d bytes): %s.", d.N, d.Size, d.Verdict)
	}
	mu.Unlock()
	if len(missing) == 0 {
		return fmt.Errorf("envelope 13 was not lost")
	}
	say(w, "UDP gives no sign: no error, no retry. The receiver can only see the gap if the")
	say(w, "envelopes carry numbers, and only get 13 back by asking for it: TCP's sequence")
	say(w, "numbers and acknowledgements do exactly that for every byte, in the kernel.")
	say(w, "")
	return rudpEnvelopes(ctx, w)
}

// rudpEnvelopes sends the envelopes again over rudp, which numbers and
// acknowledges them in user space, through a link that loses the first
// copy of envelope 13, and tells the story from the sender's trace.
func rudpEnvelopes(ctx context.Context, w io.Writer) error {
	l, err := rudp.Listen("udp", "127.0.0.1:0", rudp.Config{})
	if err != nil {
		return err
	}
	defer l.Close()
	front, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	p := &impair.Proxy{To: l.Addr().String(), Up: impair.Faults{Script: []impair.Rule{{Match: []byte("envelope 13 "), Times: 1}}}}
	pctx, cancel := context.WithCancel(ctx)
	served := make(chan struct{})
	go func() { p.Serve(pctx, front); close(served) }()
	defer func() { cancel(); <-served }()

	var mu sync.Mutex
	var story []string
	keep := func(ev rudp.TraceEvent) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case ev.Event == "send" && ev.Seq >= 12 && ev.Seq <= 14,
			ev.Event == "ack" && len(ev.SACK) > 0 && len(story) < 8,
			ev.Event == "lost", ev.Event == "resend":
			story = append(story, ev.String())
		}
	}
	accepted := make(chan *rudp.Conn, 1)
	go func() { c, _ := l.AcceptRUDP(ctx); accepted <- c }()
	c, err := rudp.Dial(ctx, "udp", front.LocalAddr().String(), rudp.Config{Trace: keep})
	if err != nil {
		return err
	}
	srv := <-accepted
	if srv == nil {
		c.Close()
		return fmt.Errorf("no rudp connection arrived")
	}
	defer func() {
		// Close both ends and let them say goodbye before the link goes.
		c.Close()
		srv.Close()
		for _, done := range []<-chan struct{}{c.Done(), srv.Done()} {
			select {
			case <-done:
			case <-time.After(2 * time.Second):
			}
		}
	}()
	say(w, "The same twenty envelopes over rudp, netkit's reliable transport over UDP, through a link")
	say(w, "that loses the first copy of envelope 13. The sender's trace (packet n carries envelope n):")
	body := envelopes()
	for _, line := range strings.SplitAfter(body, "\n") {
		if line == "" {
			continue
		}
		if _, err := c.Write([]byte(line)); err != nil {
			return err
		}
		time.Sleep(time.Millisecond) // a packet each, as a slow writer makes them
	}
	c.CloseWrite()
	srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(srv)
	if err != nil {
		return err
	}
	mu.Lock()
	for _, line := range story {
		say(w, "  %s", strings.TrimSpace(line))
	}
	mu.Unlock()
	if string(got) != body {
		return fmt.Errorf("rudp delivered %d bytes, not the %d sent", len(got), len(body))
	}
	say(w, "receiver: all 20 envelopes, in order. The gap was seen (the acknowledgements name what")
	say(w, "arrived past it), 13 was declared lost and sent again: TCP's story, told in user space.")
	return nil
}
