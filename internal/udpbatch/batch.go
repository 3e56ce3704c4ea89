// Package udpbatch is the UDP read loop that netkit's datagram servers
// share (server.PacketServer and dnsserver): one goroutine per socket
// reads datagrams in batches, calls a handler for each in the order they
// arrived, and sends the replies the handlers queued in one batch too.
//
// On Linux (amd64 and arm64) a batch is one recvmmsg that takes whatever
// has arrived, and one sendmmsg for the replies, both raw system calls
// that never wait: the kernel time per datagram halves under load, and an
// idle socket waits in Go's poller without waking the runtime's other
// threads (see Serve). Elsewhere it reads and writes one datagram at a
// time.
package udpbatch

import (
	"net/netip"
)

// Handler serves one datagram. p is valid only during the call; replies
// go through w and leave when the batch's handlers have all run.
type Handler func(w *Writer, p []byte, from netip.AddrPort, truncated bool)

// Config sizes the loop. The zero value reads every UDP datagram whole.
type Config struct {
	// Slot is the largest datagram read whole; a longer one is cut to
	// Slot bytes and handed over as truncated. If zero, 65535.
	Slot int
	// Batch is how many datagrams one read takes at most. If zero, 32, or
	// fewer for slots so large that 32 of them would pass 1 MiB.
	Batch int
	// Sent, if not nil, is told of each run of replies the kernel took.
	Sent func(packets, bytes int)
	// SendError, if not nil, is told of each reply the kernel refused; the
	// reply is dropped and the others still go.
	SendError func(to netip.AddrPort, err error)
}

func (c Config) sizes() (slot, batch int) {
	slot, batch = c.Slot, c.Batch
	if slot <= 0 {
		slot = 65535
	}
	if batch <= 0 {
		batch = min(32, max(1, (1<<20)/slot))
	}
	return slot, batch
}

// Writer queues the replies of one batch.
type Writer struct {
	bufs [][]byte
	to   []netip.AddrPort
	n    int
	send func(w *Writer) // sends bufs[:n] and sets n to 0
}

func newWriter(batch int, send func(*Writer)) *Writer {
	w := &Writer{bufs: make([][]byte, batch), to: make([]netip.AddrPort, batch), send: send}
	for i := range w.bufs {
		w.bufs[i] = make([]byte, 0, 1500)
	}
	return w
}

// Buffer returns an empty buffer to append a reply to, for Send.
func (w *Writer) Buffer() []byte {
	if w.n == len(w.bufs) {
		w.Flush()
	}
	return w.bufs[w.n][:0]
}

// Send queues b for to. b must be the buffer that Buffer returned, grown
// by appending (or a slice that nothing else holds), and is not to be
// used again: the Writer keeps it for later replies.
func (w *Writer) Send(b []byte, to netip.AddrPort) {
	if w.n == len(w.bufs) {
		w.Flush()
	}
	w.bufs[w.n], w.to[w.n] = b, to
	w.n++
}

// WriteTo queues a copy of p for to. It always succeeds: a reply the
// kernel refuses later goes to Config.SendError.
func (w *Writer) WriteTo(p []byte, to netip.AddrPort) (int, error) {
	w.Send(append(w.Buffer(), p...), to)
	return len(p), nil
}

// Flush sends what is queued now rather than at the end of the batch.
func (w *Writer) Flush() {
	if w.n > 0 {
		w.send(w)
	}
}
