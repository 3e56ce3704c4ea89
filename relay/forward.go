package relay

import (
	"context"
	"net"
	"sync"

	"github.com/netkit-dev/netkit/server"
)

// Forwarder forwards stream connections: for each accepted connection it
// dials the target and relays between the two. Serve and Shutdown come
// from the goroutine server engine, so the limits, the filter and the
// graceful shutdown of server.Config apply.
type Forwarder struct {
	// Dial opens a connection to the target.
	Dial func(ctx context.Context) (net.Conn, error)
	// Relay configures each relay.
	Relay Config
	// Server holds the limits, filter, logger and events.
	Server server.Config
	// Done, if set, is called when a forwarded connection ends, with what
	// it moved and why it ended (nil for both sides done).
	Done func(client net.Addr, st Stats, err error)

	once sync.Once
	srv  *server.Server
}

// Serve accepts connections on l and forwards each until Shutdown or ctx
// ends; see server.Server.Serve.
func (f *Forwarder) Serve(ctx context.Context, l net.Listener) error {
	return f.server().Serve(ctx, l)
}

// Shutdown stops accepting and waits for the relays to end; see
// server.Server.Shutdown.
func (f *Forwarder) Shutdown(ctx context.Context) error {
	return f.server().Shutdown(ctx)
}

// Stats returns the connection counters.
func (f *Forwarder) Stats() server.Stats { return f.server().Stats() }

func (f *Forwarder) server() *server.Server {
	f.once.Do(func() {
		f.srv = &server.Server{Config: f.Server, Stream: server.StreamFunc(f.forward)}
	})
	return f.srv
}

func (f *Forwarder) forward(ctx context.Context, c net.Conn) {
	target, err := f.Dial(ctx)
	if err != nil {
		if l := f.Server.Logger; l != nil {
			l.Warn("dial target failed", "client", c.RemoteAddr(), "err", err)
		}
		if f.Done != nil {
			f.Done(c.RemoteAddr(), Stats{}, err)
		}
		return
	}
	st, err := Relay(ctx, c, target, f.Relay)
	if f.Done != nil {
		f.Done(c.RemoteAddr(), st, err)
	}
}
