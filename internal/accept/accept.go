// Package accept is the accept loop that netkit's small servers share:
// each connection handled in a goroutine of its own, the listener and
// every open connection closed when the context ends, and no return
// before every handler has.
package accept

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// Serve accepts connections on ln and calls handle with each in a
// goroutine of its own, closing the connection when handle returns.
// When ctx ends, ln and every open connection are closed, and Serve
// returns nil once all handlers have returned; if Accept fails for
// another reason, Serve returns that error (after the handlers). Accept
// errors that are temporary are retried after a short pause.
func Serve(ctx context.Context, ln net.Listener, handle func(net.Conn)) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			done := context.AfterFunc(ctx, func() { c.Close() })
			defer done()
			defer c.Close()
			handle(c)
		}()
	}
}
