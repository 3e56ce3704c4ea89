package inetd

import (
	"sync"

	"github.com/netkit-dev/netkit/server"
)

// Broker relays bytes between its clients, as ncat --broker does: what one
// client sends goes to every other client, unchanged. Unlike [Chat] it
// knows nothing of lines or names. One Broker is one group: give every
// connection the same Broker.
type Broker struct {
	server.Base

	mu      sync.Mutex
	clients map[server.Conn]struct{}
}

func (b *Broker) OnOpen(c server.Conn) {
	b.mu.Lock()
	if b.clients == nil {
		b.clients = map[server.Conn]struct{}{}
	}
	b.clients[c] = struct{}{}
	b.mu.Unlock()
}

func (b *Broker) OnData(from server.Conn, p []byte) {
	b.mu.Lock()
	to := make([]server.Conn, 0, len(b.clients))
	for c := range b.clients {
		if c != from {
			to = append(to, c)
		}
	}
	b.mu.Unlock()
	for _, c := range to {
		c.Write(p)
	}
}

func (b *Broker) OnClose(c server.Conn, err error) {
	b.mu.Lock()
	delete(b.clients, c)
	b.mu.Unlock()
}

var _ server.Handler = (*Broker)(nil)
