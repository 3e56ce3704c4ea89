package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/netcat"
	"github.com/netkit-dev/netkit/scan"
	"github.com/spf13/cobra"
)

type connectOptions struct {
	target      string
	wait        time.Duration
	source      string
	zero        bool
	quit        float64
	noShutdown  bool
	crlf, hex   bool
	sendOnly    bool
	recvOnly    bool
	idle        time.Duration
	insecureTLS bool
}

func newConnectCmd(a *app) *cobra.Command {
	var o connectOptions
	cmd := &cobra.Command{
		Use:   "connect ENDPOINT",
		Short: "Connect to a server: stdin to the peer, the peer to stdout (netcat client)",
		Long: `Connect to ENDPOINT and join the connection to stdin and stdout, as netcat
does. When stdin ends, netkit shuts down its write side (the peer sees EOF)
and goes on printing what the peer sends until the peer closes; -q limits
that wait, and --no-shutdown keeps the write side open.

Over UDP each line of stdin goes as one datagram and every datagram that
comes back is printed. UDP has no close, so after stdin ends netkit waits
-q seconds (1 unless given) for replies.

-z checks whether ports are open without sending anything; the endpoint
may then name several ports: tcp://HOST:20-25,80. Every port is reported,
and netkit exits 1 if any is not open.`,
		Example: `  netkit connect tcp://127.0.0.1:12345
  echo hello | netkit connect 127.0.0.1:7
  printf 'GET / HTTP/1.0\r\n\r\n' | netkit connect tls://example.com:443
  netkit connect -z tcp://127.0.0.1:20-25,80,443
  echo ping | netkit connect udp://127.0.0.1:7
  netkit connect --hex -q 1 tcp://[::1]:13`,
		GroupID: groupTransport,
		Args:    exactArgs(1, "one ENDPOINT"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			o.target = args[0]
			return runConnect(ctx, a, o, cmd.Flags().Changed("quit"))
		}),
	}
	f := cmd.Flags()
	secondsVarP(f, &o.wait, "wait", "w", 10*time.Second, "give up connecting after this long")
	f.StringVarP(&o.source, "source", "s", "", "local address (and :port) to connect from")
	f.BoolVarP(&o.zero, "zero", "z", false, "only check that the port(s) accept connections; send nothing")
	f.Float64VarP(&o.quit, "quit", "q", -1, "after stdin ends, wait at most this many seconds for the peer (<0: until it closes)")
	f.BoolVar(&o.noShutdown, "no-shutdown", false, "do not shut down the write side when stdin ends")
	f.BoolVarP(&o.crlf, "crlf", "C", false, "send line ends as CRLF")
	f.BoolVarP(&o.hex, "hex", "x", false, "hexdump both directions to stderr")
	f.BoolVar(&o.sendOnly, "send-only", false, "only send stdin; ignore what the peer sends")
	f.BoolVar(&o.recvOnly, "recv-only", false, "only print what the peer sends; ignore stdin")
	secondsVarP(f, &o.idle, "idle-timeout", "i", 0, "give up when nothing moves for this long (0: never)")
	f.BoolVar(&o.insecureTLS, "insecure", false, "tls://: do not verify the server's certificate")
	return cmd
}

func runConnect(ctx context.Context, a *app, o connectOptions, quitSet bool) error {
	if o.sendOnly && o.recvOnly {
		return usageError("--send-only and --recv-only exclude each other")
	}
	if o.wait <= 0 {
		return usageError("invalid -w %s: the connect timeout must be positive", o.wait)
	}
	if o.zero {
		return runZeroIO(ctx, a, o)
	}
	if a.json {
		return usageError("--json goes with -z: without it, netkit connect joins stdin and stdout to the connection, which is no JSON")
	}
	e, err := parseEndpoint(o.target)
	if err != nil {
		return err
	}
	if e.IsStdio() {
		return usageError(`netkit connect needs a network endpoint, not "-"`)
	}
	if e.Port == 0 && e.Scheme != endpoint.Unix {
		return inputError(fmt.Errorf("port 0 in %q cannot be connected to: name the server's port", o.target))
	}
	d, err := connectDialer(e, o)
	if err != nil {
		return err
	}
	c, err := d.Dial(ctx, e)
	if err != nil {
		return err
	}
	if a.verbose > 0 {
		fmt.Fprintf(a.io.Err, "netkit: connected to %s from %s\n", c.RemoteAddr(), c.LocalAddr())
	}
	bo := a.bridgeOptions(o.crlf, o.hex, o.sendOnly, o.recvOnly, o.quit)
	bo.NoShutdown, bo.Idle = o.noShutdown, o.idle
	if e.IsPacket() && !quitSet {
		bo.Quit = time.Second // UDP has no close: wait a second for replies
	}
	return netcat.Bridge(ctx, c, a.io.In, a.io.Out, bo)
}

// bridgeOptions maps the flags that connect and listen share.
func (a *app) bridgeOptions(crlf, hex, sendOnly, recvOnly bool, quit float64) netcat.Options {
	o := netcat.Options{CRLF: crlf, SendOnly: sendOnly, RecvOnly: recvOnly, Interactive: a.io.InTTY}
	switch {
	case quit == 0:
		o.Quit = -1 // -q 0: leave as soon as stdin ends
	case quit > 0:
		o.Quit = time.Duration(quit * float64(time.Second))
	}
	if hex {
		o.Dump = netcat.NewDumper(a.io.Err)
	}
	return o
}

// connectDialer builds the dialer for -w, -s and --insecure.
func connectDialer(e endpoint.Endpoint, o connectOptions) (*endpoint.Dialer, error) {
	d := &endpoint.Dialer{}
	d.Dialer.Timeout = o.wait
	if o.insecureTLS {
		d.TLSConfig = insecureTLS()
	}
	if o.source == "" {
		return d, nil
	}
	ap, err := parseSource(o.source)
	if err != nil {
		return nil, err
	}
	switch {
	case e.IsPacket():
		d.Dialer.LocalAddr = net.UDPAddrFromAddrPort(ap)
	case e.Scheme == endpoint.Unix:
		return nil, usageError("-s does not apply to unix endpoints")
	default:
		d.Dialer.LocalAddr = net.TCPAddrFromAddrPort(ap)
	}
	return d, nil
}

// parseSource reads -s: an address, or address:port.
func parseSource(s string) (netip.AddrPort, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(a, 0), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.AddrPort{}, usageError("invalid -s %q: want an IP address, or ADDRESS:PORT ([v6]:port)", s)
	}
	return ap, nil
}

func (r zeroReport) writeHuman(w io.Writer, st textui.Style) error {
	for _, x := range r.Results {
		state := x.State.String()
		switch x.State {
		case scan.Open:
			state = st.Green(state)
		case scan.Closed:
			state = st.Red(state)
		default:
			state = st.Yellow(state)
		}
		line := fmt.Sprintf("%s %s", x.Endpoint, state)
		if x.Error != "" && x.State != scan.Closed {
			line += " (" + x.Error + ")"
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}

type zeroReport struct {
	Results []zeroResult `json:"results"`
}

type zeroResult struct {
	Endpoint string     `json:"endpoint"`
	Port     uint16     `json:"port"`
	State    scan.State `json:"state"`
	Error    string     `json:"error,omitempty"`
}

// runZeroIO connects to each port and closes at once, sending nothing.
func runZeroIO(ctx context.Context, a *app, o connectOptions) error {
	hp, err := scan.ParseHostPorts(o.target)
	if err != nil {
		return inputError(err)
	}
	d, err := connectDialer(endpoint.Endpoint{Scheme: hp.Scheme}, o)
	if err != nil {
		return err
	}
	results := scan.Probe(ctx, d, hp, 0)
	if err := ctx.Err(); err != nil {
		return err
	}
	report := zeroReport{Results: make([]zeroResult, len(results))}
	failed := false
	for i, r := range results {
		report.Results[i] = zeroResult{Endpoint: r.Endpoint.String(), Port: r.Endpoint.Port, State: r.State}
		switch r.State {
		case scan.Open:
			continue
		case scan.Filtered:
			report.Results[i].Error = "no answer within -w"
		case scan.Closed:
			report.Results[i].Error = "connection refused"
		default:
			report.Results[i].Error = endpoint.Innermost(r.Err)
		}
		failed = true
	}
	if err := a.render(report); err != nil {
		return err
	}
	if failed {
		return errSilentFailure
	}
	return nil
}
