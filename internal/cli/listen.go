package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/netcat"
	"github.com/netkit-dev/netkit/server"
	"github.com/spf13/cobra"
)

type listenOptions struct {
	endpoint  string
	keep      bool
	maxConns  int
	access    accessFlags
	exec      string
	execArgs  []string
	broker    bool
	crlf, hex bool
	sendOnly  bool
	recvOnly  bool
	quit      float64
	idle      time.Duration
}

func newListenCmd(a *app) *cobra.Command {
	var o listenOptions
	cmd := &cobra.Command{
		Use:   "listen ENDPOINT [-- ARGS...]",
		Short: "Wait for a client and join it to stdin and stdout (netcat server)",
		Long: `Listen on ENDPOINT, accept one client, and join it to stdin and stdout until
it closes. With -k netkit keeps listening and serves clients at once: what
any client sends is printed, and each line of stdin goes to every client.

--exec PROG runs PROG for each client with the connection as its stdin and
stdout, without a shell; arguments for PROG follow "--". --broker relays
between clients: what one sends, all the others receive.

Over UDP the first peer to send becomes the session (with -k, every peer
is, and peers idle for -i are forgotten): datagrams are printed, and each
line of stdin is sent to the peer, or to every peer with -k. With --exec
each UDP peer gets its own PROG.

When the port is 0, or with -v, the address listened on is printed on
stderr.`,
		Example: `  netkit listen tcp://127.0.0.1:12345
  netkit listen -k tcp://[::1]:9000 --max-conns 10
  netkit listen -k tcp://0.0.0.0:9000 --allow 192.0.2.0/24 --deny 192.0.2.13
  netkit listen -k tcp://127.0.0.1:7000 --exec /bin/cat
  netkit listen -k tcp://127.0.0.1:7000 --exec /usr/bin/tr -- a-z A-Z
  netkit listen -k --broker tcp://127.0.0.1:6000
  netkit listen udp://127.0.0.1:5000`,
		GroupID: groupTransport,
		Args:    minArgs(1, "an ENDPOINT to listen on"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			o.endpoint, o.execArgs = args[0], args[1:]
			if len(o.execArgs) > 0 && o.exec == "" {
				return usageError("arguments after the endpoint are for --exec; got %q without --exec", o.execArgs)
			}
			return runListen(ctx, a, o)
		}),
	}
	f := cmd.Flags()
	f.BoolVarP(&o.keep, "keep-open", "k", false, "keep listening and serve clients concurrently")
	f.IntVar(&o.maxConns, "max-conns", 0, "most clients at once with -k (0: no limit)")
	o.access.register(cmd)
	f.StringVarP(&o.exec, "exec", "e", "", "run PROG for each client, the connection as its stdin and stdout")
	f.BoolVar(&o.broker, "broker", false, "relay between clients (with -k)")
	f.BoolVarP(&o.crlf, "crlf", "C", false, "send line ends as CRLF")
	f.BoolVarP(&o.hex, "hex", "x", false, "hexdump both directions to stderr")
	f.BoolVar(&o.sendOnly, "send-only", false, "only send stdin; ignore what the client sends")
	f.BoolVar(&o.recvOnly, "recv-only", false, "only print what the client sends; ignore stdin")
	f.Float64VarP(&o.quit, "quit", "q", -1, "after stdin ends, wait at most this many seconds for the client (<0: until it closes)")
	secondsVarP(f, &o.idle, "idle-timeout", "i", 0, "drop clients idle this long (0: never; UDP peers with -k: 60s)")
	return cmd
}

func runListen(ctx context.Context, a *app, o listenOptions) error {
	e, err := parseEndpoint(o.endpoint)
	if err != nil {
		return err
	}
	if a.json {
		return usageError("netkit listen joins stdin and stdout to its clients, which is no JSON; drop --json (-v logs the clients on stderr)")
	}
	if e.IsStdio() || e.Scheme == endpoint.TLS {
		return usageError("netkit listen takes tcp, udp and unix endpoints, not %q", o.endpoint)
	}
	access, err := o.access.list()
	if err != nil {
		return err
	}
	bo := a.bridgeOptions(o.crlf, o.hex, o.sendOnly, o.recvOnly, o.quit)
	bo.Idle = o.idle
	var prog *netcat.Program
	if o.exec != "" {
		prog = &netcat.Program{Path: o.exec, Args: o.execArgs, Stderr: a.io.Err}
	}
	cfg := netcat.ListenConfig{
		Keep: o.keep, Program: prog, Broker: o.broker, Bridge: bo,
		Server:   server.Config{MaxConns: o.maxConns, Filter: access.Filter(), IdleTimeout: o.idle, Events: a.logEvents()},
		OnReject: func(remote net.Addr, err error) { fmt.Fprintf(a.io.Err, "netkit: rejected %s: %v\n", remote, err) },
		OnAccept: func(remote net.Addr) {
			if a.verbose > 0 {
				fmt.Fprintf(a.io.Err, "netkit: connection from %s\n", remote)
			}
		},
	}
	if err := cfg.Validate(); err != nil {
		return configError(err)
	}
	if e.IsPacket() {
		pc, err := endpoint.ListenPacket(ctx, e)
		if err != nil {
			return fmt.Errorf("listen %s: %w", e, err)
		}
		a.announce(e, pc.LocalAddr())
		pcfg := netcat.PacketConfig{Keep: o.keep, Idle: o.idle, Filter: cfg.Server.Filter, Program: prog, Bridge: bo}
		if a.verbose > 0 {
			pcfg.OnDrop = func(from netip.AddrPort, why error) {
				fmt.Fprintf(a.io.Err, "netkit: dropped datagram from %s: %v\n", from, why)
			}
		}
		return netcat.ServePacket(ctx, pc.(*net.UDPConn), a.io.In, a.io.Out, pcfg)
	}
	l, err := endpoint.Listen(ctx, e)
	if err != nil {
		return fmt.Errorf("listen %s: %w", e, err)
	}
	a.announce(e, l.Addr())
	return netcat.Serve(ctx, l, a.io.In, a.io.Out, cfg)
}

// configError reports a library's verdict on contradicting options as
// bad usage.
func configError(err error) error {
	if ce, ok := errors.AsType[*netcat.ConfigError](err); ok {
		return usageError("%s", ce.Rule)
	}
	return inputError(err)
}

// logEvents prints rejected clients, and with -v every server event, on
// stderr.
func (a *app) logEvents() func(server.Event) {
	return func(ev server.Event) {
		switch {
		case ev.Kind == server.EventRejected:
			fmt.Fprintf(a.io.Err, "netkit: rejected %s: %s\n", ev.Remote, ev.Reason)
		case a.verbose > 0:
			serverEvent(ev).writeHuman(a.io.Err, textui.Style{})
		}
	}
}

// announce prints the address listened on when it was chosen by the
// system (port 0) or with -v.
func (a *app) announce(e endpoint.Endpoint, addr net.Addr) {
	if a.verbose > 0 || e.Port == 0 && e.Scheme != endpoint.Unix {
		fmt.Fprintf(a.io.Err, "netkit: listening on %s\n", boundString(e, addr))
	}
}
