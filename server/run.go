package server

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// DefaultGrace is how long Run lets servers finish what they are doing
// once they are told to stop.
const DefaultGrace = 5 * time.Second

// Unit is one server bound to one socket, as Run takes it.
type Unit struct {
	// Serve serves until Shutdown is called or the socket fails.
	Serve func(ctx context.Context) error
	// Shutdown stops Serve gracefully, within ctx.
	Shutdown func(ctx context.Context) error
}

// StreamServer is a server of stream listeners: Server,
// eventloop.Server, relay.Forwarder.
type StreamServer interface {
	Serve(ctx context.Context, l net.Listener) error
	Shutdown(ctx context.Context) error
}

// DatagramServer is a server of datagram sockets: PacketServer,
// relay.PacketForwarder.
type DatagramServer interface {
	Serve(ctx context.Context, pc net.PacketConn) error
	Shutdown(ctx context.Context) error
}

// Stream is the Unit of s serving l.
func Stream(s StreamServer, l net.Listener) Unit {
	return Unit{Serve: func(ctx context.Context) error { return s.Serve(ctx, l) }, Shutdown: s.Shutdown}
}

// Datagram is the Unit of s serving pc.
func Datagram(s DatagramServer, pc net.PacketConn) Unit {
	return Unit{Serve: func(ctx context.Context) error { return s.Serve(ctx, pc) }, Shutdown: s.Shutdown}
}

// Run is the lifecycle of a server process: it serves every unit at once
// until ctx ends (a signal) or one of them fails, then shuts every unit
// down, giving them grace to finish (DefaultGrace if zero), and waits for
// every Serve to return. It returns the first failure, or nil when ctx
// ended. The units' sockets should be bound before Run, so that a bad
// address fails before anything is served.
func Run(ctx context.Context, grace time.Duration, units ...Unit) error {
	if grace <= 0 {
		grace = DefaultGrace
	}
	// Serve runs on a context of its own: ending ctx asks for a graceful
	// stop through Shutdown, not an abrupt one.
	serveCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	errs := make(chan error, len(units))
	var wg sync.WaitGroup
	for _, u := range units {
		wg.Go(func() {
			err := u.Serve(serveCtx)
			if err != nil && !errors.Is(err, context.Canceled) {
				errs <- err
				return
			}
			errs <- nil
		})
	}
	var first error
	select {
	case <-ctx.Done():
	case first = <-errs:
	}
	shutCtx, cancelShut := context.WithTimeout(serveCtx, grace)
	defer cancelShut()
	for _, u := range units {
		u.Shutdown(shutCtx)
	}
	cancel()  // whatever is still serving after the grace ends now
	wg.Wait() // errors after the shutdown are the shutdown's own

	return first
}
