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
	"github.com/netkit-dev/netkit/server"
)

// lossy: the tutorials' envelope 13, lost on a broken link on purpose.
type lossy struct{ noFiles }

func (lossy) Name() string  { return "lossy" }
func (lossy) Layer() string { return "transport" }
func (lossy) Idea() string {
	return "a real path loses datagrams; UDP does not notice, which is why TCP numbers and acknowledges every byte"
}
func (lossy) Commands() []string {
	return []string{
		"netkit serve echo udp://127.0.0.1:12345 &",
		"netkit impair --listen udp://127.0.0.1:12346 --to udp://127.0.0.1:12345 --drop match:13 --only up &",
		"echo envelope 12 | netkit connect udp://127.0.0.1:12346 -q 0.5",
		"echo envelope 13 | netkit connect udp://127.0.0.1:12346 -q 0.5   # prints nothing: lost on the way",
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
	return nil
}
