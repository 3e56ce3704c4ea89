package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/inetd"
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
	f.DurationVarP(&o.idle, "idle-timeout", "i", 0, "drop clients idle this long (0: never; UDP peers with -k: 60s)")
	return cmd
}

func runListen(ctx context.Context, a *app, o listenOptions) error {
	e, err := parseEndpoint(o.endpoint)
	if err != nil {
		return err
	}
	switch {
	case e.IsStdio() || e.Scheme == endpoint.TLS:
		return usageError("netkit listen takes tcp, udp and unix endpoints, not %q", o.endpoint)
	case o.broker && o.exec != "":
		return usageError("--broker and --exec exclude each other")
	case o.broker && !o.keep:
		return usageError("--broker relays between several clients: add -k")
	case o.sendOnly && o.recvOnly:
		return usageError("--send-only and --recv-only exclude each other")
	case o.maxConns < 0:
		return usageError("--max-conns may not be negative")
	case o.exec != "" && !isExecutable(o.exec):
		return inputError(fmt.Errorf("--exec %q: no such program (give a path, or a name on $PATH)", o.exec))
	}
	filter, err := o.access.filter()
	if err != nil {
		return err
	}
	if e.IsPacket() {
		return a.listenUDP(ctx, e, o, filter)
	}
	l, err := endpoint.Listen(ctx, e)
	if err != nil {
		return fmt.Errorf("listen %s: %w", e, err)
	}
	defer l.Close()
	a.announce(e, l.Addr())

	if !o.keep {
		c, err := acceptOne(ctx, a, l, filter)
		if err != nil {
			return err
		}
		l.Close() // one client: stop listening, as netcat does
		if o.exec != "" {
			return a.execConn(ctx, c, o)
		}
		return a.bridge(ctx, c, bridgeOptions{
			crlf: o.crlf, hex: o.hex, sendOnly: o.sendOnly, recvOnly: o.recvOnly,
			quit: quitDuration(o.quit), idle: o.idle,
		})
	}

	cfg := server.Config{MaxConns: o.maxConns, Filter: filter, IdleTimeout: o.idle}
	cfg.Events = func(ev server.Event) {
		switch {
		case ev.Kind == server.EventRejected:
			fmt.Fprintf(a.io.Err, "netkit: rejected %s: %s\n", ev.Remote, ev.Reason)
		case a.verbose > 0:
			serverEvent(ev).writeHuman(a.io.Err, style{})
		}
	}
	srv := &server.Server{Config: cfg}
	switch {
	case o.exec != "":
		srv.Stream = server.StreamFunc(func(ctx context.Context, c net.Conn) {
			if err := a.execConn(ctx, c, o); err != nil {
				fmt.Fprintln(a.io.Err, message(err))
			}
		})
	case o.broker:
		srv.Handler = &inetd.Broker{}
	default:
		hub := &stdioHub{out: &lockedWriter{w: a.io.Out}, dump: a.newDumper(o.hex), sendOnly: o.sendOnly}
		srv.Handler = hub
		if !o.recvOnly {
			go hub.readStdin(a.io.In, o.crlf)
		}
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	srv.Shutdown(shutCtx)
	<-served
	return nil
}

func quitDuration(q float64) time.Duration {
	if q < 0 {
		return -1
	}
	return time.Duration(q * float64(time.Second))
}

func isExecutable(prog string) bool {
	_, err := exec.LookPath(prog)
	return err == nil
}

// announce prints the address listened on when it was chosen by the
// system (port 0) or with -v.
func (a *app) announce(e endpoint.Endpoint, addr net.Addr) {
	bound, ok := endpoint.FromAddr(addr)
	if !ok {
		return
	}
	if e.Scheme != endpoint.Unix {
		bound.Scheme = e.Scheme
	}
	if a.verbose > 0 || e.Port == 0 && e.Scheme != endpoint.Unix {
		fmt.Fprintf(a.io.Err, "netkit: listening on %s\n", bound)
	}
}

// acceptOne accepts the first client that the filter lets in.
func acceptOne(ctx context.Context, a *app, l net.Listener, filter func(netip.AddrPort) error) (net.Conn, error) {
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
		if filter != nil {
			if err := filter(server.AddrPort(c.RemoteAddr())); err != nil {
				fmt.Fprintf(a.io.Err, "netkit: rejected %s: %v\n", c.RemoteAddr(), err)
				c.Close()
				continue
			}
		}
		if a.verbose > 0 {
			fmt.Fprintf(a.io.Err, "netkit: connection from %s\n", c.RemoteAddr())
		}
		return c, nil
	}
}

// execConn runs --exec's program with the connection as its stdin and
// stdout. A TCP or Unix socket is handed over as it is, so the program
// reads and writes the socket itself, as under inetd.
func (a *app) execConn(ctx context.Context, c net.Conn, o listenOptions) error {
	defer c.Close()
	cmd := exec.CommandContext(ctx, o.exec, o.execArgs...)
	cmd.Stderr = a.io.Err
	type filer interface{ File() (*os.File, error) }
	if fc, ok := c.(filer); ok {
		f, err := fc.File()
		if err != nil {
			return fmt.Errorf("--exec: %w", err)
		}
		defer f.Close()
		f.Fd() // puts the descriptor in blocking mode, as programs expect
		cmd.Stdin, cmd.Stdout = f, f
		c.Close() // the child holds the socket now
	} else {
		cmd.Stdin, cmd.Stdout = c, c
	}
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("--exec %s: %v", o.exec, ee)
		}
		return fmt.Errorf("--exec %s: %w", o.exec, err)
	}
	return nil
}

// stdioHub joins many clients to one stdin and stdout: what any client
// sends is printed, and stdin goes to all of them.
type stdioHub struct {
	server.Base
	out      io.Writer
	dump     *dumper
	sendOnly bool

	mu      sync.Mutex
	clients map[server.Conn]struct{}
}

func (h *stdioHub) OnOpen(c server.Conn) {
	h.mu.Lock()
	if h.clients == nil {
		h.clients = map[server.Conn]struct{}{}
	}
	h.clients[c] = struct{}{}
	h.mu.Unlock()
}

func (h *stdioHub) OnData(c server.Conn, p []byte) {
	if h.sendOnly {
		return
	}
	h.dump.dumpNext('<', p)
	h.out.Write(p)
}

func (h *stdioHub) OnClose(c server.Conn, err error) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
}

func (h *stdioHub) readStdin(in io.Reader, crlf bool) {
	r := bufio.NewReader(in)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			if crlf {
				line, _ = toCRLF(nil, line, false)
			}
			h.dump.dumpNext('>', line)
			h.mu.Lock()
			to := make([]server.Conn, 0, len(h.clients))
			for c := range h.clients {
				to = append(to, c)
			}
			h.mu.Unlock()
			for _, c := range to {
				c.Write(line)
			}
		}
		if err != nil {
			return
		}
	}
}

// listenUDP serves a UDP endpoint: see the command's help.
func (a *app) listenUDP(ctx context.Context, e endpoint.Endpoint, o listenOptions, filter func(netip.AddrPort) error) error {
	pc, err := endpoint.ListenPacket(ctx, e)
	if err != nil {
		return fmt.Errorf("listen %s: %w", e, err)
	}
	uc := pc.(*net.UDPConn)
	defer uc.Close()
	a.announce(e, uc.LocalAddr())
	stop := context.AfterFunc(ctx, func() { uc.Close() })
	defer stop()

	idle := o.idle
	if idle == 0 && o.keep {
		idle = 60 * time.Second
	}
	peers := &udpPeers{idle: idle, keep: o.keep, a: a, uc: uc, o: o}
	dump := a.newDumper(o.hex)
	stdinDone := make(chan struct{})
	if !o.recvOnly && o.exec == "" {
		go func() {
			defer close(stdinDone)
			r := bufio.NewReaderSize(a.io.In, maxDatagram+1)
			for {
				line, err := r.ReadSlice('\n')
				if len(line) > 0 {
					if o.crlf {
						line, _ = toCRLF(nil, line, false)
					}
					dump.dumpNext('>', line)
					peers.sendAll(line)
				}
				if err != nil {
					return
				}
			}
		}()
	}
	buf := make([]byte, 65535)
	for {
		n, from, err := uc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil {
				peers.closeAll()
				return nil
			}
			return fmt.Errorf("receive on %s: %w", e, err)
		}
		if filter != nil {
			if err := filter(from); err != nil {
				if a.verbose > 0 {
					fmt.Fprintf(a.io.Err, "netkit: dropped datagram from %s: %v\n", from, err)
				}
				continue
			}
		}
		if !peers.admit(from) {
			if a.verbose > 0 {
				fmt.Fprintf(a.io.Err, "netkit: ignored datagram from %s: the session is with another peer (use -k)\n", from)
			}
			continue
		}
		if o.exec != "" {
			peers.toExec(ctx, from, buf[:n])
			continue
		}
		if !o.sendOnly {
			dump.dumpNext('<', buf[:n])
			a.io.Out.Write(buf[:n])
		}
	}
}

// udpPeers tracks the peers of a UDP listener.
type udpPeers struct {
	idle time.Duration
	keep bool
	a    *app
	uc   *net.UDPConn
	o    listenOptions

	mu    sync.Mutex
	peers map[netip.AddrPort]*udpPeer
	first netip.AddrPort
}

type udpPeer struct {
	last  time.Time
	stdin io.WriteCloser // --exec: the program's stdin
}

// admit records a datagram's sender and reports whether it belongs to
// the session.
func (u *udpPeers) admit(from netip.AddrPort) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.peers == nil {
		u.peers = map[netip.AddrPort]*udpPeer{}
	}
	if !u.keep {
		if !u.first.IsValid() {
			u.first = from
		}
		if from != u.first {
			return false
		}
	}
	now := time.Now()
	for k, p := range u.peers {
		if u.idle > 0 && now.Sub(p.last) > u.idle && k != from {
			if p.stdin != nil {
				p.stdin.Close()
			}
			delete(u.peers, k)
		}
	}
	p := u.peers[from]
	if p == nil {
		p = &udpPeer{}
		u.peers[from] = p
	}
	p.last = now
	return true
}

func (u *udpPeers) sendAll(p []byte) {
	u.mu.Lock()
	to := make([]netip.AddrPort, 0, len(u.peers))
	for k := range u.peers {
		to = append(to, k)
	}
	u.mu.Unlock()
	for _, k := range to {
		u.uc.WriteToUDPAddrPort(p, k)
	}
}

// toExec hands a datagram to the peer's own program, starting it first.
func (u *udpPeers) toExec(ctx context.Context, from netip.AddrPort, p []byte) {
	u.mu.Lock()
	peer := u.peers[from]
	if peer.stdin == nil {
		cmd := exec.CommandContext(ctx, u.o.exec, u.o.execArgs...)
		cmd.Stderr = u.a.io.Err
		in, err1 := cmd.StdinPipe()
		out, err2 := cmd.StdoutPipe()
		if err := errors.Join(err1, err2, cmd.Start()); err != nil {
			u.mu.Unlock()
			fmt.Fprintf(u.a.io.Err, "netkit: --exec %s for %s: %v\n", u.o.exec, from, err)
			return
		}
		peer.stdin = in
		go func() {
			buf := make([]byte, maxDatagram)
			for {
				n, err := out.Read(buf)
				if n > 0 {
					u.uc.WriteToUDPAddrPort(buf[:n], from)
				}
				if err != nil {
					cmd.Wait()
					return
				}
			}
		}()
	}
	in := peer.stdin
	u.mu.Unlock()
	in.Write(p)
}

func (u *udpPeers) closeAll() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, p := range u.peers {
		if p.stdin != nil {
			p.stdin.Close()
		}
	}
}
