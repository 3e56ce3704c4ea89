package netcat

import (
	"io"
	"sync"

	"github.com/netkit-dev/netkit/server"
)

// Hub joins many clients to one pair of streams: what any client sends is
// written to Out, and each line of the input goes to every client (see
// Hub.Broadcast). It is a server.Handler for either engine.
type Hub struct {
	server.Base
	// Out receives what clients send. Hub serializes its writes.
	Out io.Writer
	// SendOnly ignores what clients send.
	SendOnly bool
	// Dump, if set, hexdumps the traffic of every client in one count.
	Dump *Dumper

	mu      sync.Mutex
	clients map[server.Conn]struct{}
}

var _ server.Handler = (*Hub)(nil)

// OnOpen adds c to the clients that broadcasts reach.
func (h *Hub) OnOpen(c server.Conn) {
	h.mu.Lock()
	if h.clients == nil {
		h.clients = map[server.Conn]struct{}{}
	}
	h.clients[c] = struct{}{}
	h.mu.Unlock()
}

// OnData writes what c sent to Out.
func (h *Hub) OnData(c server.Conn, p []byte) {
	if h.SendOnly {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.Dump.Received(p)
	h.Out.Write(p)
}

// OnClose forgets c.
func (h *Hub) OnClose(c server.Conn, err error) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
}

// Broadcast sends p to every client connected now.
func (h *Hub) Broadcast(p []byte) {
	h.mu.Lock()
	to := make([]server.Conn, 0, len(h.clients))
	for c := range h.clients {
		to = append(to, c)
	}
	h.mu.Unlock()
	for _, c := range to {
		c.Write(p)
	}
}

// BroadcastLines broadcasts each line of in until in ends, converting LF to
// CRLF if crlf is set.
func (h *Hub) BroadcastLines(in io.Reader, crlf bool) error {
	return eachLine(in, crlf, 0, func(line []byte) error {
		h.Dump.Sent(line)
		h.Broadcast(line)
		return nil
	})
}
