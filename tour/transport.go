package tour

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/inetd"
	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/netcat"
	"github.com/netkit-dev/netkit/perf"
	"github.com/netkit-dev/netkit/scan"
	"github.com/netkit-dev/netkit/server"
	"github.com/netkit-dev/netkit/server/eventloop"
	"github.com/netkit-dev/netkit/services"
)

// serveTCP serves h on l in the background; the returned func stops it.
func serveTCP(s server.StreamServer, l net.Listener) func() {
	done := make(chan struct{})
	go func() { s.Serve(context.Background(), l); close(done) }()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		<-done
	}
}

// ports: a port number picks the program on a host.
type ports struct{ noFiles }

func (ports) Name() string  { return "ports" }
func (ports) Layer() string { return "transport" }
func (ports) Idea() string {
	return "an address finds the host, a port finds the program on it; well-known ports have service names"
}
func (ports) Commands() []string {
	return []string{"netkit services 22 53 80 443", "netkit services --top 10"}
}

func (ports) Run(ctx context.Context, w io.Writer, e *Env) error {
	t := services.Builtin()
	tb := textui.NewTable(" PORT", "SERVICE")
	for _, p := range []uint16{22, 25, 53, 80, 443} {
		tb.Add(fmt.Sprintf(" %d", p), t.Name(p, "tcp"))
	}
	say(w, "Servers listen on well-known ports:")
	if err := tb.Write(w, e.Style); err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return err
	}
	defer c.Close()
	say(w, "Clients get an ephemeral port from the kernel: a connection just made here goes from %s to %s.", c.LocalAddr(), c.RemoteAddr())
	say(w, "Four numbers tell every TCP connection apart: the two addresses and the two ports.")
	return nil
}

// thankYou: the tutorials' first server and client.
type thankYou struct{ noFiles }

func (thankYou) Name() string  { return "thank-you" }
func (thankYou) Layer() string { return "transport" }
func (thankYou) Idea() string {
	return "a TCP server binds, listens and accepts; a client connects; they send and receive; each closes its side"
}
func (thankYou) Commands() []string {
	return []string{"netkit serve hello &", "netkit connect 127.0.0.1:12345"}
}

func (thankYou) Run(ctx context.Context, w io.Writer, e *Env) error {
	l, _, err := listenTutorial(w, "tcp")
	if err != nil {
		return err
	}
	say(w, "server: socket(), bind(%s), listen(): the kernel now queues connections for it.", l.Addr())
	stop := serveTCP(&server.Server{Handler: inetd.Hello{}}, l)
	defer stop()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return err
	}
	say(w, "client: socket(), connect(%s): the three-way handshake is done, from %s.", l.Addr(), c.LocalAddr())
	say(w, "client: it has nothing to send, so it shuts down its write side at once (a half-close: FIN out, reading goes on).")
	say(w, "server: accept() returns a new socket for this client; it send()s its greeting and close()s.")
	var got strings.Builder
	if err := netcat.Bridge(ctx, c, strings.NewReader(""), &got, netcat.Options{}); err != nil {
		return err
	}
	say(w, "client: recv() gives %q, then recv() returns 0 bytes: the server closed its side (FIN).", got.String())
	if got.String() != inetd.HelloMessage {
		return fmt.Errorf("the client got %q, not the greeting", got.String())
	}
	return nil
}

// datagrams: UDP keeps message boundaries, and promises nothing.
type datagrams struct{ noFiles }

func (datagrams) Name() string  { return "datagrams" }
func (datagrams) Layer() string { return "transport" }
func (datagrams) Idea() string {
	return "UDP sends datagrams (sendto/recvfrom): each arrives whole or not at all, with no connection and no promise"
}
func (datagrams) Commands() []string {
	return []string{"netkit serve echo udp://127.0.0.1:12345 &", "echo hello | netkit connect udp://127.0.0.1:12345 -q 0.5"}
}

func (datagrams) Run(ctx context.Context, w io.Writer, e *Env) error {
	_, pc, err := listenTutorial(w, "udp")
	if err != nil {
		return err
	}
	ps := &server.PacketServer{Handler: inetd.Echo{}}
	done := make(chan struct{})
	go func() { ps.Serve(context.Background(), pc); close(done) }()
	defer func() { ps.Shutdown(context.Background()); <-done }()

	c, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		return err
	}
	defer c.Close()
	msgs := []string{"one", "two", "three"}
	for _, m := range msgs {
		if _, err := c.Write([]byte(m)); err != nil {
			return err
		}
	}
	say(w, "client: three sendto() calls to the echo service at %s, back to back.", pc.LocalAddr())
	buf := make([]byte, 1500)
	for range msgs {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			return fmt.Errorf("an echo did not come back (UDP may lose datagrams, but not on loopback): %w", err)
		}
		say(w, "client: recvfrom() gives %q: one datagram per call, its boundary kept.", buf[:n])
	}
	// A datagram to a port where no one listens: the kernel answers with
	// ICMP port unreachable, which a connected socket reports.
	l, _ := net.ListenPacket("udp", "127.0.0.1:0")
	dead := l.LocalAddr().String()
	l.Close()
	d, err := net.Dial("udp", dead)
	if err != nil {
		return err
	}
	defer d.Close()
	d.Write([]byte("anyone?"))
	d.SetReadDeadline(time.Now().Add(time.Second))
	_, err = d.Read(buf)
	if errors.Is(err, syscall.ECONNREFUSED) {
		say(w, "A datagram to %s, where nothing listens, is lost; only an ICMP message says so (%v).", dead, syscall.ECONNREFUSED)
	} else {
		say(w, "A datagram to %s, where nothing listens, is simply lost (%v).", dead, err)
	}
	return nil
}

// eggs: the tutorials' "break a few eggs": errors, each from its layer.
type eggs struct{ noFiles }

func (eggs) Name() string  { return "errors" }
func (eggs) Layer() string { return "transport" }
func (eggs) Idea() string {
	return "errors come from a layer and say so: bad input is caught before any packet, a refusal comes back from the other host's kernel"
}
func (eggs) Commands() []string {
	return []string{
		"netkit connect tcp://127.0.0.1:66000   # exits 2: bad input",
		"netkit dns resolve no-such-host.invalid   # exits 1: the operation failed",
	}
}

func (eggs) Run(ctx context.Context, w io.Writer, e *Env) error {
	if _, err := endpoint.Parse("tcp://127.0.0.1:66000"); err != nil {
		say(w, "the parser (before any socket): %v", err)
	} else {
		return errors.New("port 66000 parsed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	closed, _ := endpoint.FromAddr(l.Addr())
	l.Close()
	_, err = endpoint.Dial(ctx, closed)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("dialing a closed port: %v, not a refusal", err)
	}
	say(w, "the transport layer (TCP answered RST): %v", err)
	_, err = endpoint.Dial(ctx, endpoint.MustParse("tcp://no-such-host.invalid:80"))
	say(w, "the application layer (DNS; .invalid never resolves, RFC 6761): %v", err)
	say(w, "Each error names what was tried and where; netkit exits 2 for bad input and 1 for a failed operation.")
	return nil
}

// engines: threaded versus event-driven servers.
type engines struct{ noFiles }

func (engines) Name() string  { return "engines" }
func (engines) Layer() string { return "servers" }
func (engines) Idea() string {
	return "a server can give each client a thread (goroutine) or serve them all from event loops (epoll); the same handler runs on both"
}
func (engines) Commands() []string {
	return []string{
		"netkit serve echo --engine eventloop tcp://127.0.0.1:12345 &",
		"netkit bench echo tcp://127.0.0.1:12345 -c 8 -d 1s --warmup 0s",
	}
}

func (engines) Run(ctx context.Context, w io.Writer, e *Env) error {
	var bars []textui.Bar
	for _, eng := range []struct {
		name string
		s    server.StreamServer
	}{
		{"goroutines", &server.Server{Handler: inetd.Echo{}}},
		{"eventloop", &eventloop.Server{Handler: inetd.Echo{}}},
	} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		stop := serveTCP(eng.s, l)
		target, _ := endpoint.FromAddr(l.Addr())
		res, err := perf.RunEcho(ctx, perf.EchoConfig{Target: target, Conns: 8, Duration: 500 * time.Millisecond, Warmup: 100 * time.Millisecond})
		stop()
		if err != nil {
			return fmt.Errorf("%s: %w", eng.name, err)
		}
		if res.Errors > 0 {
			return fmt.Errorf("%s: %d echoes were wrong: %s", eng.name, res.Errors, res.FirstError)
		}
		bars = append(bars, textui.Bar{Label: eng.name, Value: res.ReqPerSec,
			Note: fmt.Sprintf("%.0f req/s, p99 %s", res.ReqPerSec, res.P99.Round(time.Microsecond))})
	}
	say(w, "The echo handler on both engines, 8 connections for half a second each (load generator on the same cores):")
	if err := textui.WriteBars(w, bars, 30, e.Style); err != nil {
		return err
	}
	say(w, "bench/echo.sh measures them properly: server CPU per request, 5 rounds, beside asyncio and uvloop.")
	return nil
}

// portScan: which ports accept connections.
type portScan struct{ noFiles }

func (portScan) Name() string  { return "scan" }
func (portScan) Layer() string { return "transport" }
func (portScan) Idea() string {
	return "a port scan asks each port for a handshake: open ports answer SYN-ACK, closed ones RST, filtered ones nothing"
}
func (portScan) Commands() []string {
	return []string{"netkit serve hello &", "netkit scan 127.0.0.1 -p 12345,1"}
}

func (portScan) Run(ctx context.Context, w io.Writer, e *Env) error {
	var ports []uint16
	for _, h := range []server.Handler{inetd.Hello{}, inetd.Echo{}} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer serveTCP(&server.Server{Handler: h}, l)()
		ports = append(ports, uint16(l.Addr().(*net.TCPAddr).Port))
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := uint16(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	ports = append(ports, closed)

	addrs := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	report := scan.NewReport(addrs, nil)
	report.Track()
	sum, err := scan.Scan(ctx, scan.Config{OnResult: func(r scan.Result) { report.Add(r) }}, addrs, ports)
	if err != nil {
		return err
	}
	say(w, "The tour's own listeners and one port where nothing listens, scanned in %s:", sum.Elapsed.Round(time.Microsecond))
	t := textui.NewTable(" PORT", "STATE")
	for _, p := range ports {
		t.Add(fmt.Sprintf(" %d/tcp", p), report.State(netip.AddrPortFrom(addrs[0], p)).String())
	}
	if err := t.Write(w, e.Style); err != nil {
		return err
	}
	if sum.Open != 2 || sum.Closed != 1 {
		return fmt.Errorf("expected 2 open and 1 closed, found %d and %d", sum.Open, sum.Closed)
	}
	say(w, "Scan only hosts you are allowed to scan.")
	return nil
}
