package netcat

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/netkit-dev/netkit/inetd"
	"github.com/netkit-dev/netkit/server"
)

// ListenConfig is the listening side of netcat. The zero value serves one
// client, joined to the streams, and then stops listening.
type ListenConfig struct {
	// Keep goes on listening and serves clients at once (netcat's -k).
	Keep bool
	// Server holds the limits, filter and events of the listener. The
	// Filter applies to the single client too.
	Server server.Config
	// Program, if set, is run for each client instead of joining it to
	// the streams.
	Program *Program
	// Broker relays between clients: what one sends, every other one
	// receives. It needs Keep.
	Broker bool
	// Bridge shapes the exchange with the streams. With Keep, its CRLF,
	// SendOnly, RecvOnly and Dump apply to every client.
	Bridge Options
	// Grace is how long a kept listener lets clients finish once ctx
	// ends. If zero, server.DefaultGrace.
	Grace time.Duration
	// OnReject, if set, is told of each client that Server.Filter turns
	// away while waiting for the single client.
	OnReject func(remote net.Addr, err error)
	// OnAccept, if set, is told of the single client.
	OnAccept func(remote net.Addr)
}

// ConfigError is a ListenConfig (or PacketConfig) that contradicts itself.
type ConfigError struct{ Rule string }

func (e *ConfigError) Error() string { return "netcat: " + e.Rule }

// Validate reports a configuration that contradicts itself.
func (c *ListenConfig) Validate() error {
	switch {
	case c.Broker && c.Program != nil:
		return &ConfigError{"a broker relays between clients; it runs no program"}
	case c.Broker && !c.Keep:
		return &ConfigError{"a broker relays between several clients: it needs Keep (-k)"}
	case c.Bridge.SendOnly && c.Bridge.RecvOnly:
		return &ConfigError{"send-only and receive-only exclude each other"}
	case c.Server.MaxConns < 0:
		return &ConfigError{"the most clients at once may not be negative"}
	}
	if c.Program != nil {
		return c.Program.Check()
	}
	return nil
}

// Serve serves l as netcat's listener until the exchange is over (one
// client) or ctx ends (Keep), and closes l.
func Serve(ctx context.Context, l net.Listener, in io.Reader, out io.Writer, cfg ListenConfig) error {
	defer l.Close()
	if err := cfg.Validate(); err != nil {
		return err
	}
	if !cfg.Keep {
		c, err := acceptOne(ctx, l, cfg)
		if err != nil {
			return err
		}
		l.Close() // one client: stop listening, as netcat does
		if cfg.Program != nil {
			return RunProgram(ctx, c, *cfg.Program)
		}
		return Bridge(ctx, c, in, out, cfg.Bridge)
	}
	srv := &server.Server{Config: cfg.Server}
	switch {
	case cfg.Program != nil:
		p := *cfg.Program
		srv.Stream = server.StreamFunc(func(ctx context.Context, c net.Conn) {
			if err := RunProgram(ctx, c, p); err != nil && p.Stderr != nil {
				fmt.Fprintf(p.Stderr, "%v\n", err)
			}
		})
	case cfg.Broker:
		srv.Handler = &inetd.Broker{}
	default:
		hub := &Hub{Out: out, Dump: cfg.Bridge.Dump, SendOnly: cfg.Bridge.SendOnly}
		srv.Handler = hub
		if !cfg.Bridge.RecvOnly {
			go hub.BroadcastLines(in, cfg.Bridge.CRLF)
		}
	}
	return server.Run(ctx, cfg.Grace, server.Stream(srv, l))
}

// acceptOne accepts the first client that the filter lets in.
func acceptOne(ctx context.Context, l net.Listener, cfg ListenConfig) (net.Conn, error) {
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("accept on %s: %w", l.Addr(), err)
		}
		if f := cfg.Server.Filter; f != nil {
			if err := f(server.AddrPort(c.RemoteAddr())); err != nil {
				if cfg.OnReject != nil {
					cfg.OnReject(c.RemoteAddr(), err)
				}
				c.Close()
				continue
			}
		}
		if cfg.OnAccept != nil {
			cfg.OnAccept(c.RemoteAddr())
		}
		return c, nil
	}
}
