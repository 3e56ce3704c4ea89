package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/inetd"
	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/server"
	"github.com/spf13/cobra"
)

type serveOptions struct {
	service     string
	endpoints   []string
	engine      string
	maxConns    int
	maxPerIP    int
	idleTimeout time.Duration
	keepAlive   time.Duration
	access      accessFlags
}

func newServeCmd(a *app) *cobra.Command {
	var o serveOptions
	var names []string
	for _, s := range inetd.Services() {
		udp := ""
		if s.NewPacket != nil {
			udp = ", UDP too"
		}
		rfc := ""
		if s.RFC != 0 {
			rfc = fmt.Sprintf(" (RFC %d%s)", s.RFC, udp)
		}
		names = append(names, fmt.Sprintf("  %-8s %s%s", s.Name, s.Summary, rfc))
	}
	cmd := &cobra.Command{
		Use:   "serve SERVICE [ENDPOINT...]",
		Short: "Run a classic service: echo, discard, daytime, time, chargen, qotd, chat, hello",
		Long: `Run one of the classic small services until interrupted. With no endpoint it
listens on 127.0.0.1:12345 (the tutorials' port) over TCP, and over UDP too
where the service has a UDP form. Ctrl-C stops accepting, lets open
connections finish their replies, and exits.

Services:
` + strings.Join(names, "\n") + `

The chat room's console takes part: lines typed on stdin are said to the
room as <server>, and everything said in the room is printed on stdout.

--json prints one event per line: listening, accepted, rejected, and closed
with bytes in and out and the duration.`,
		Example: `  netkit serve echo
  netkit serve hello tcp://127.0.0.1:12345
  netkit serve daytime udp://[::1]:1313 tcp://[::1]:1313
  netkit serve chat --max-conns 50
  netkit serve echo tcp://127.0.0.1:0 --json
  netkit serve echo --engine eventloop tcp://127.0.0.1:7000`,
		GroupID: groupTransport,
		Args:    minArgs(1, "a SERVICE (echo, discard, daytime, time, chargen, qotd, chat, hello)"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			o.service, o.endpoints = args[0], args[1:]
			return runServe(ctx, a, o)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.engine, "engine", "goroutine", "TCP server engine: goroutine (a goroutine per connection) or eventloop (epoll, a loop per core); UDP is served the same either way")
	f.IntVar(&o.maxConns, "max-conns", 0, "most connections at once (0: no limit)")
	f.IntVar(&o.maxPerIP, "max-per-ip", 0, "most connections at once from one address (0: no limit)")
	f.DurationVar(&o.idleTimeout, "idle-timeout", 0, "close connections idle this long (0: never)")
	f.DurationVar(&o.keepAlive, "keepalive", 0, "TCP keep-alive probe interval, to find dead peers (0: off; --idle-timeout is cheaper)")
	o.access.register(cmd)
	return cmd
}

func runServe(ctx context.Context, a *app, o serveOptions) error {
	svc, ok := inetd.Lookup(o.service)
	if !ok {
		var names []string
		for _, s := range inetd.Services() {
			names = append(names, s.Name)
		}
		return usageError("unknown service %q: choose one of %s", o.service, strings.Join(names, ", "))
	}
	if o.engine != "goroutine" && o.engine != "eventloop" {
		return usageError("unknown --engine %q: use goroutine or eventloop", o.engine)
	}
	if o.maxConns < 0 || o.maxPerIP < 0 || o.idleTimeout < 0 {
		return usageError("--max-conns, --max-per-ip and --idle-timeout may not be negative")
	}
	access, err := o.access.list()
	if err != nil {
		return err
	}
	var eps []endpoint.Endpoint
	for _, s := range o.endpoints {
		e, err := parseEndpoint(s)
		if err != nil {
			return err
		}
		switch {
		case e.IsStdio(), e.Scheme == endpoint.TLS:
			return usageError("netkit serve listens on tcp, udp and unix endpoints, not %q", s)
		case e.IsPacket() && svc.NewPacket == nil:
			return usageError("%s has no UDP form: serve it on a tcp:// endpoint", svc.Name)
		}
		eps = append(eps, e)
	}
	out := &lockedWriter{w: a.io.Out}
	emit := func(ev connEvent) {
		ev.Service = svc.Name
		if a.json {
			writeJSONLine(out, ev)
		} else if ev.Event == "listening" || a.verbose > 0 {
			ev.writeHuman(out, textui.Style{})
		}
	}
	cfg := inetd.ServeConfig{
		Service: svc, Endpoints: eps, EventLoop: o.engine == "eventloop", KeepAlive: o.keepAlive,
		Server: server.Config{
			MaxConns: o.maxConns, MaxConnsPerIP: o.maxPerIP, IdleTimeout: o.idleTimeout,
			Filter: access.Filter(), Events: func(e server.Event) { emit(serverEvent(e)) },
		},
		OnListen: func(e endpoint.Endpoint) { emit(connEvent{Event: "listening", Time: nowStamp(), Endpoint: e.String()}) },
	}
	if !a.json {
		cfg.Console = &inetd.Console{In: a.io.In, Out: out}
		cfg.Server.Events = func(e server.Event) {
			if e.Kind == server.EventRejected {
				fmt.Fprintf(a.io.Err, "netkit: rejected %s: %s\n", e.Remote, e.Reason)
			} else if a.verbose > 0 {
				serverEvent(e).writeHuman(out, textui.Style{})
			}
		}
	}
	return inetd.Serve(ctx, cfg)
}
