package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
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
	f.DurationVarP(&o.wait, "wait", "w", 10*time.Second, "give up connecting after this long")
	f.StringVarP(&o.source, "source", "s", "", "local address (and :port) to connect from")
	f.BoolVarP(&o.zero, "zero", "z", false, "only check that the port(s) accept connections; send nothing")
	f.Float64VarP(&o.quit, "quit", "q", -1, "after stdin ends, wait at most this many seconds for the peer (<0: until it closes)")
	f.BoolVar(&o.noShutdown, "no-shutdown", false, "do not shut down the write side when stdin ends")
	f.BoolVarP(&o.crlf, "crlf", "C", false, "send line ends as CRLF")
	f.BoolVarP(&o.hex, "hex", "x", false, "hexdump both directions to stderr")
	f.BoolVar(&o.sendOnly, "send-only", false, "only send stdin; ignore what the peer sends")
	f.BoolVar(&o.recvOnly, "recv-only", false, "only print what the peer sends; ignore stdin")
	f.DurationVarP(&o.idle, "idle-timeout", "i", 0, "give up when nothing moves for this long (0: never)")
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
		return dialError(e, err)
	}
	if a.verbose > 0 {
		fmt.Fprintf(a.io.Err, "netkit: connected to %s from %s\n", c.RemoteAddr(), c.LocalAddr())
	}
	bo := bridgeOptions{
		crlf: o.crlf, hex: o.hex, sendOnly: o.sendOnly, recvOnly: o.recvOnly,
		noShutdown: o.noShutdown, idle: o.idle, quit: -1,
	}
	if o.quit >= 0 {
		bo.quit = time.Duration(o.quit * float64(time.Second))
	} else if e.IsPacket() && !quitSet {
		bo.quit = time.Second
	}
	err = a.bridge(ctx, c, bo)
	if err != nil && !errors.Is(err, context.Canceled) && e.IsPacket() && errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("send to %s: port unreachable: %w", e, err)
	}
	return err
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

// dialError names what was dialed; the hints explain the errno.
func dialError(e endpoint.Endpoint, err error) error {
	if errors.Is(err, context.DeadlineExceeded) || isTimeoutErr(err) {
		return fmt.Errorf("connect %s: timed out: %w", e, err)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return &wrapped{msg: fmt.Sprintf("connect %s: cannot resolve %s: %s", e, e.Host, dnsErr.Err), err: err}
	}
	return &wrapped{msg: fmt.Sprintf("connect %s: %s", e, innermost(err)), err: err}
}

// wrapped shows its own message but unwraps to the cause, so that hints
// and exit codes still see the errno.
type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }

// innermost returns the text of the deepest wrapped error: "connection
// refused" rather than "dial tcp ...: connect: connection refused".
func innermost(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}

func isTimeoutErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// portSpec is a -z target: one host and a list of ports.
type portSpec struct {
	scheme endpoint.Scheme
	host   string
	ports  []uint16
}

// parsePortSpec reads scheme://host:PORTS where PORTS is a comma list of
// ports and ranges, as netcat takes them.
func parsePortSpec(s string) (portSpec, error) {
	bad := func(what, rule string) (portSpec, error) {
		return portSpec{}, inputError(&endpoint.ParseError{Input: s, What: what, Rule: rule})
	}
	rest := s
	scheme := endpoint.TCP
	if sch, r, ok := strings.Cut(s, "://"); ok {
		if sch != "tcp" && sch != "tcp4" && sch != "tcp6" {
			return bad(fmt.Sprintf("scheme %q", sch), "zero-I/O checks (-z) are for tcp, tcp4 and tcp6")
		}
		scheme, rest = endpoint.Scheme(sch), r
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 || !strings.HasSuffix(rest[:i], "]") && strings.Contains(rest[:i], ":") {
		// Let the endpoint parser explain (missing port, brackets).
		if _, err := endpoint.Parse(string(scheme) + "://" + rest); err != nil {
			return portSpec{}, inputError(err)
		}
	}
	hostPart, list := rest[:i], rest[i+1:]
	var ports []uint16
	seen := map[uint16]bool{}
	for _, item := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(item, "-")
		first, err1 := strconv.ParseUint(lo, 10, 16)
		last := first
		var err2 error
		if isRange {
			last, err2 = strconv.ParseUint(hi, 10, 16)
		}
		switch {
		case item == "" || err1 != nil || err2 != nil || !isAllDigits(lo) || isRange && !isAllDigits(hi):
			return bad(fmt.Sprintf("invalid port list item %q", item), "ports are 1-65535, as 80, 20-25 or 22,80,443")
		case first == 0:
			return bad("port 0", "port 0 cannot be connected to")
		case last < first:
			return bad(fmt.Sprintf("backward range %q", item), "write ranges low-high")
		}
		for p := first; p <= last; p++ {
			if !seen[uint16(p)] {
				seen[uint16(p)] = true
				ports = append(ports, uint16(p))
			}
		}
	}
	// Validate the host the way endpoints are validated.
	e, err := endpoint.Parse(string(scheme) + "://" + hostPart + ":1")
	if err != nil {
		return portSpec{}, inputError(&endpoint.ParseError{Input: s, What: "invalid host " + strconv.Quote(hostPart), Rule: trimParseErr(err)})
	}
	slices.Sort(ports)
	return portSpec{scheme: scheme, host: e.Host, ports: ports}, nil
}

func isAllDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

type zeroResult struct {
	Endpoint string `json:"endpoint"`
	Port     uint16 `json:"port"`
	State    string `json:"state"`
	Error    string `json:"error,omitempty"`
}

type zeroReport struct {
	Results []zeroResult `json:"results"`
}

func (r zeroReport) writeHuman(w io.Writer, st style) error {
	for _, x := range r.Results {
		state := x.State
		switch state {
		case "open":
			state = st.green(state)
		case "closed":
			state = st.red(state)
		default:
			state = st.yellow(state)
		}
		line := fmt.Sprintf("%s %s", x.Endpoint, state)
		if x.Error != "" && x.State != "closed" {
			line += " (" + x.Error + ")"
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}

// runZeroIO connects to each port and closes at once, sending nothing.
func runZeroIO(ctx context.Context, a *app, o connectOptions) error {
	spec, err := parsePortSpec(o.target)
	if err != nil {
		return err
	}
	d, err := connectDialer(endpoint.Endpoint{Scheme: spec.scheme}, o)
	if err != nil {
		return err
	}
	results := make([]zeroResult, len(spec.ports))
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i, port := range spec.ports {
		e := endpoint.Endpoint{Scheme: spec.scheme, Host: spec.host, Port: port}
		results[i] = zeroResult{Endpoint: e.String(), Port: port}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := d.Dial(ctx, e)
			switch {
			case err == nil:
				c.Close()
				results[i].State = "open"
			case errors.Is(err, syscall.ECONNREFUSED):
				results[i].State, results[i].Error = "closed", "connection refused"
			case isTimeoutErr(err) || errors.Is(err, context.DeadlineExceeded):
				results[i].State, results[i].Error = "timeout", "no answer within -w"
			default:
				results[i].State, results[i].Error = "error", innermost(err)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := a.render(zeroReport{Results: results}); err != nil {
		return err
	}
	for _, r := range results {
		if r.State != "open" {
			return errSilentFailure
		}
	}
	return nil
}
