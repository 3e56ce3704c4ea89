package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/relay"
	"github.com/netkit-dev/netkit/server"
	"github.com/spf13/cobra"
)

type forwardOptions struct {
	listen, target string
	maxConns       int
	access         accessFlags
	wait           time.Duration
	idle           time.Duration
	noSplice       bool
}

func newForwardCmd(a *app) *cobra.Command {
	var o forwardOptions
	cmd := &cobra.Command{
		Use:   "forward LISTEN TARGET",
		Short: "Forward connections or datagrams from LISTEN to TARGET (port forwarder)",
		Long: `Accept connections on LISTEN and relay each to a new connection to TARGET,
both ways at once, until both sides are done. When one side finishes
sending, its peer's write side is shut down and the other direction goes on,
so request/response protocols that half-close work. Between TCP sockets the
bytes move with splice(2) and never enter user space.

With udp:// endpoints each client address gets a session with a socket of
its own towards TARGET, so replies go back to the client that asked;
sessions idle for -i (60s unless given) are forgotten.

The two endpoints may differ in kind: tcp to unix, tcp4 to tcp6, udp4 to
udp6. TCP cannot be forwarded to UDP.

--json prints one event per line: listening, accepted, rejected, closed
(with bytes each way).`,
		Example: `  netkit forward tcp://127.0.0.1:8080 tcp://127.0.0.1:80
  netkit forward tcp://[::]:2222 tcp4://192.0.2.10:22 --allow 2001:db8::/32
  netkit forward udp://127.0.0.1:5353 udp://127.0.0.1:53
  netkit forward tcp://127.0.0.1:9000 unix:///run/app.sock --max-conns 100`,
		GroupID: groupTransport,
		Args:    exactArgs(2, "LISTEN and TARGET endpoints"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			o.listen, o.target = args[0], args[1]
			return runForward(ctx, a, o)
		}),
	}
	f := cmd.Flags()
	f.IntVar(&o.maxConns, "max-conns", 0, "most connections at once (0: no limit), or UDP sessions, each a socket (0: 4096)")
	o.access.register(cmd)
	secondsVarP(f, &o.wait, "wait", "w", 10*time.Second, "give up connecting to TARGET after this long")
	secondsVarP(f, &o.idle, "idle-timeout", "i", 0, "end a connection idle this long (0: never; UDP sessions: 60s)")
	f.BoolVar(&o.noSplice, "no-splice", false, "copy through user space instead of splice(2)")
	return cmd
}

func runForward(ctx context.Context, a *app, o forwardOptions) error {
	le, err := parseEndpoint(o.listen)
	if err != nil {
		return err
	}
	te, err := parseEndpoint(o.target)
	if err != nil {
		return err
	}
	switch {
	case le.IsStdio() || te.IsStdio():
		return usageError(`netkit forward joins two network endpoints; for stdio use netkit connect or listen`)
	case le.Scheme == endpoint.TLS:
		return usageError("forward cannot listen on tls:// (it has no certificate); listen on tcp://")
	case le.IsPacket() != te.IsPacket():
		return usageError("cannot forward %s to %s: both must be datagram (udp) or both stream (tcp, unix, tls)", le.Scheme, te.Scheme)
	case te.Port == 0 && te.Scheme != endpoint.Unix:
		return inputError(fmt.Errorf("port 0 in TARGET %q cannot be connected to", o.target))
	case o.maxConns < 0 || o.idle < 0 || o.wait <= 0:
		return usageError("--max-conns and -i may not be negative, and -w must be positive")
	}
	access, err := o.access.list()
	if err != nil {
		return err
	}
	filter := access.Filter()
	d := &endpoint.Dialer{}
	d.Dialer.Timeout = o.wait
	dial := func(ctx context.Context) (net.Conn, error) { return d.Dial(ctx, te) }

	out := &lockedWriter{w: a.io.Out}
	emit := func(ev connEvent) {
		if a.json {
			writeJSONLine(out, ev)
		} else if ev.Event == "listening" || ev.Event == "rejected" || a.verbose > 0 {
			ev.writeHuman(a.io.Err, textui.Style{})
		}
	}

	if le.IsPacket() {
		pc, err := endpoint.ListenPacket(ctx, le)
		if err != nil {
			return fmt.Errorf("listen %s: %w", le, err)
		}
		emit(connEvent{Event: "listening", Time: nowStamp(), Endpoint: boundString(le, pc.LocalAddr()), Target: te.String()})
		pf := &relay.PacketForwarder{Dial: dial, IdleTimeout: o.idle, MaxSessions: o.maxConns, Filter: filter, Logger: a.logger()}
		pf.Events = func(ev server.Event) {
			if ev.Kind != server.EventRejected || a.json { // rejections are the logger's, once a second
				emit(serverEvent(ev))
			}
		}
		return server.Run(ctx, 0, server.Datagram(pf, pc))
	}

	l, err := endpoint.Listen(ctx, le)
	if err != nil {
		return fmt.Errorf("listen %s: %w", le, err)
	}
	emit(connEvent{Event: "listening", Time: nowStamp(), Endpoint: boundString(le, l.Addr()), Target: te.String()})
	f := &relay.Forwarder{
		Dial:  dial,
		Relay: relay.Config{IdleTimeout: o.idle, NoSplice: o.noSplice},
		Server: server.Config{
			MaxConns: o.maxConns, Filter: filter,
			Events: func(ev server.Event) {
				if ev.Kind != server.EventClosed { // closes are reported by Done, with bytes
					emit(serverEvent(ev))
				}
			},
		},
		Done: func(client net.Addr, st relay.Stats, err error) {
			in, outB := uint64(st.AToB), uint64(st.BToA)
			ev := connEvent{Event: "closed", Time: nowStamp(), Remote: client.String(), BytesIn: &in, BytesOut: &outB,
				DurationMS: float64(st.Duration.Microseconds()) / 1000}
			if err != nil {
				ev.Error = err.Error()
			}
			emit(ev)
			if _, failed := errors.AsType[*endpoint.DialError](err); failed && !a.json && a.verbose == 0 {
				// The target is down: say so, as socat does.
				fmt.Fprintln(a.io.Err, message(fmt.Errorf("client %s: %w", client, err)))
			}
		},
	}
	return server.Run(ctx, 0, server.Stream(f, l))
}

// boundString is the endpoint actually listened on (port 0 resolved).
func boundString(e endpoint.Endpoint, addr net.Addr) string {
	b, ok := endpoint.FromAddr(addr)
	if !ok {
		return e.String()
	}
	if e.Scheme != endpoint.Unix {
		b.Scheme = e.Scheme
	}
	return b.String()
}
