package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/gateway"
	"github.com/netkit-dev/netkit/internal/testutil"
)

// gatewayNet is the tutorials' picture: a client on 198.51.100.0/24, the
// gateway with a leg in each network, and a server on 192.0.2.0/24. The
// gateway's namespace does not forward packets: only what netkit gateway
// relays gets through.
type gatewayNet struct {
	client, gw, server *testutil.Netns
	dir, file, admin   string
	proc               *os.Process         // netkit gateway run
	seen               chan netip.AddrPort // the server's echo: each client it sees
	accepted           atomic.Int64
	sunk               atomic.Int64 // bytes the sink got
}

func newGatewayNet(t *testing.T) *gatewayNet {
	n := &gatewayNet{client: testutil.NewNetns(t), gw: testutil.NewNetns(t), server: testutil.NewNetns(t), dir: t.TempDir(),
		seen: make(chan netip.AddrPort, 100000)}
	testutil.Veth(t, n.client, netip.MustParsePrefix("198.51.100.2/24"), n.gw, netip.MustParsePrefix("198.51.100.1/24"))
	testutil.Veth(t, n.gw, netip.MustParsePrefix("192.0.2.1/24"), n.server, netip.MustParsePrefix("192.0.2.10/24"))
	n.file = filepath.Join(n.dir, "gw.toml")
	n.admin = filepath.Join(n.dir, "admin.sock")
	// The server: a TCP echo on 7, a sink on 9, a UDP echo on 53.
	var echo, sink net.Listener
	var udp net.PacketConn
	err := n.server.Do(func() (err error) {
		if echo, err = net.Listen("tcp", "192.0.2.10:7"); err != nil {
			return err
		}
		if sink, err = net.Listen("tcp", "192.0.2.10:9"); err != nil {
			return err
		}
		udp, err = net.ListenPacket("udp", "192.0.2.10:53")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { echo.Close(); sink.Close(); udp.Close() })
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			n.accepted.Add(1)
			n.seen <- c.RemoteAddr().(*net.TCPAddr).AddrPort()
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	go func() {
		for {
			c, err := sink.Accept()
			if err != nil {
				return
			}
			go func() { k, _ := io.Copy(io.Discard, c); n.sunk.Add(k); c.Close() }()
		}
	}()
	go func() {
		buf := make([]byte, 2048)
		for {
			k, a, err := udp.ReadFrom(buf)
			if err != nil {
				return
			}
			udp.WriteTo(append([]byte("from "+a.String()+": "), buf[:k]...), a)
		}
	}()
	return n
}

// run starts netkit gateway run in the gateway's namespace with doc.
func (n *gatewayNet) run(t *testing.T, doc string) {
	t.Helper()
	n.write(t, doc)
	cmd := n.gw.Command("netkit", "gateway", "run", n.file, "--admin", n.admin, "-v")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n.proc = cmd.Process
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if t.Failed() {
			t.Logf("gateway's log:\n%s", log.String())
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := n.status(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway never answered on its admin socket:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (n *gatewayNet) write(t *testing.T, doc string) {
	t.Helper()
	if err := os.WriteFile(n.file+".new", []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(n.file+".new", n.file); err != nil {
		t.Fatal(err)
	}
}

func (n *gatewayNet) status() (gateway.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return gateway.AdminClient{Path: n.admin}.Status(ctx)
}

// inClient runs a program in the client's namespace with stdin.
func (n *gatewayNet) inClient(t *testing.T, stdin string, name string, args ...string) (string, error) {
	t.Helper()
	testutil.Program(t, name)
	cmd := n.client.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		err = fmt.Errorf("%s: %w: %s", name, err, stderr.String())
	}
	return string(out), err
}

const gatewayDoc = `
default = "deny"

[timeouts]
udp = "2s"

[[forward]]
name = "echo"
proto = "tcp"
listen = "198.51.100.1:7"
to = ["192.0.2.10:7"]

[[forward]]
name = "closed"
proto = "tcp"
listen = "198.51.100.1:8"
to = ["192.0.2.10:7"]

[[forward]]
name = "sink"
proto = "tcp"
listen = "198.51.100.1:9"
to = ["192.0.2.10:9"]

[[forward]]
name = "dns"
proto = "udp"
listen = "198.51.100.1:53"
to = ["192.0.2.10:53"]

[[rule]]
name = "the closed port"
action = "deny"
port = "8"

[[rule]]
action = "allow"
source = ["198.51.100.0/24"]
%s
`

// TestGatewayInNamespaces: ncat, socat and curl as clients through the
// real netkit gateway; the server sees the gateway's address, denied
// flows never reach it, UDP mappings expire on time.
func TestGatewayInNamespaces(t *testing.T) {
	n := newGatewayNet(t)
	n.run(t, fmt.Sprintf(gatewayDoc, ""))

	out, err := n.inClient(t, "hello through the gateway\n", "ncat", "198.51.100.1", "7")
	if err != nil || out != "hello through the gateway\n" {
		t.Fatalf("ncat through the gateway: %q %v", out, err)
	}
	if src := <-n.seen; src.Addr() != netip.MustParseAddr("192.0.2.1") {
		t.Errorf("the server saw %s, not the gateway's 192.0.2.1 (masquerade)", src)
	}
	out, err = n.inClient(t, "socat too\n", "socat", "-", "TCP:198.51.100.1:7")
	if err != nil || out != "socat too\n" {
		t.Fatalf("socat through the gateway: %q %v", out, err)
	}
	<-n.seen

	// Denied: the connection is taken and closed; the server sees nothing.
	before := n.accepted.Load()
	out, _ = n.inClient(t, "knock\n", "socat", "-", "TCP:198.51.100.1:8")
	if out != "" || n.accepted.Load() != before {
		t.Errorf("the denied flow got %q back and the server %d connections", out, n.accepted.Load()-before)
	}

	// UDP: a mapping, its reply, and its expiry.
	out, err = n.inClient(t, "query", "socat", "-t", "1", "-", "UDP:198.51.100.1:53,sourceport=5353")
	if err != nil || !strings.HasPrefix(out, "from 192.0.2.1:") || !strings.HasSuffix(out, ": query") {
		t.Fatalf("socat udp through the gateway: %q %v", out, err)
	}
	st, _ := n.status()
	var mapped *gateway.FlowInfo
	for i := range st.Flows {
		if st.Flows[i].Proto == "udp" {
			mapped = &st.Flows[i]
		}
	}
	if mapped == nil || mapped.Client != "198.51.100.2:5353" || mapped.State != "replied" || !strings.HasPrefix(mapped.Local, "192.0.2.1:") {
		t.Fatalf("no UDP mapping for 198.51.100.2:5353 in %+v", st.Flows)
	}
	expired := time.Now()
	for {
		st, _ = n.status()
		if len(st.Flows) == 0 {
			break
		}
		if time.Since(expired) > 10*time.Second {
			t.Fatalf("the mapping outlived its 2s timeout: %+v", st.Flows)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if idle := time.Since(expired) + time.Duration(mapped.IdleS*float64(time.Second)); idle < 1500*time.Millisecond {
		t.Errorf("the mapping expired after %s idle, before its 2s", idle)
	}
	if st.Counters.Denied != 1 || st.Rules[0].Hits != 1 {
		t.Errorf("counters %+v, rules %+v", st.Counters, st.Rules)
	}
	if _, err := exec.LookPath("curl"); err == nil || testutil.RequireInterop() {
		testGatewayProxyV2(t, n)
	}
}

// testGatewayProxyV2: HAProxy, reading PROXY v2 on its listener, answers
// with the source it was told; curl is the client.
func testGatewayProxyV2(t *testing.T, n *gatewayNet) {
	haproxy := testutil.Program(t, "haproxy")
	cfg := filepath.Join(n.dir, "haproxy.cfg")
	os.WriteFile(cfg, []byte(`global
	log stderr format raw local0
defaults
	mode http
	timeout connect 5s
	timeout client 5s
	timeout server 5s
frontend fe
	bind 192.0.2.10:8081 accept-proxy
	http-request return status 200 content-type text/plain lf-string "client %[src]:%[src_port] to %[dst]:%[dst_port]\n"
`), 0o644)
	hp := n.server.Command(haproxy, "-db", "-f", cfg)
	var hlog bytes.Buffer
	hp.Stdout, hp.Stderr = &hlog, &hlog
	if err := hp.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { hp.Process.Kill(); hp.Wait() }()
	n.write(t, fmt.Sprintf(gatewayDoc, "")+`
[[forward]]
name = "web"
proto = "tcp"
listen = "198.51.100.1:80"
to = ["192.0.2.10:8081"]
proxy_v2 = true
`)
	// SIGHUP reloads, as it does for every daemon.
	if err := n.proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if st, err := n.status(); err == nil && st.Reloads == 1 && len(st.Forwards) == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("SIGHUP did not reload the gateway")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var out string
	var err error
	for range 50 { // HAProxy takes a moment to bind
		out, err = n.inClient(t, "", "curl", "-sS", "--max-time", "5", "--local-port", "40123", "http://198.51.100.1/")
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if want := "client 198.51.100.2:40123 to 198.51.100.1:80\n"; out != want {
		t.Errorf("HAProxy was told %q (%v), want %q\n%s", out, err, want, hlog.String())
	}
}

// TestGatewayReloadKeepsTransfer: 1 GiB through the gateway while it is
// reloaded 100 times (each file allowing the flow) arrives whole.
func TestGatewayReloadKeepsTransfer(t *testing.T) {
	n := newGatewayNet(t)
	docs := []string{fmt.Sprintf(gatewayDoc, ""), fmt.Sprintf(gatewayDoc, "[[rule]]\naction = \"reject\"\nsource = [\"203.0.113.0/24\"]\n")}
	n.run(t, docs[0])
	var c net.Conn
	if err := n.client.Do(func() (err error) { c, err = net.Dial("tcp", "198.51.100.1:9"); return err }); err != nil {
		t.Fatal(err)
	}
	const total = 1 << 30
	sent := make(chan error, 1)
	go func() {
		buf := make([]byte, 1<<20)
		var err error
		for left := total; left > 0 && err == nil; left -= len(buf) {
			_, err = c.Write(buf)
		}
		c.Close()
		sent <- err
	}()
	ac := gateway.AdminClient{Path: n.admin}
	for i := range 100 {
		n.write(t, docs[i%2])
		rep, err := ac.Reload(context.Background())
		if err != nil || rep.Closed != 0 {
			t.Fatalf("reload %d: %+v %v", i, rep, err)
		}
	}
	if err := <-sent; err != nil {
		t.Fatalf("sending through 100 reloads: %v", err)
	}
	for deadline := time.Now().Add(30 * time.Second); n.sunk.Load() < total && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	st, _ := n.status()
	if got := n.sunk.Load(); got != total || st.Reloads != 100 || st.Counters.ReloadClosed != 0 {
		t.Errorf("the sink got %d of %d bytes; reloads %d, flows closed by them %d", got, total, st.Reloads, st.Counters.ReloadClosed)
	}
}

// TestGatewayChurn: 10,000 short flows, each echoing its own bytes, lose
// nothing, and leave no flow, socket or goroutine behind.
func TestGatewayChurn(t *testing.T) {
	n := newGatewayNet(t)
	n.run(t, fmt.Sprintf(gatewayDoc, ""))
	go func() {
		for range n.seen { // the echo reports each client; nobody reads them here
		}
	}()
	base, err := n.status()
	if err != nil {
		t.Fatal(err)
	}
	const flows, workers = 10000, 32
	var next, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := next.Add(1); i <= flows; i = next.Add(1) {
				var c net.Conn
				err := n.client.Do(func() (err error) { c, err = net.DialTimeout("tcp", "198.51.100.1:7", 5*time.Second); return err })
				if err == nil {
					msg := fmt.Appendf(nil, "flow %d\n", i)
					c.SetDeadline(time.Now().Add(10 * time.Second))
					c.Write(msg)
					c.(*net.TCPConn).CloseWrite()
					var got []byte
					got, err = io.ReadAll(c)
					c.Close()
					if err == nil && !bytes.Equal(got, msg) {
						err = fmt.Errorf("flow %d: sent %q, got %q back", i, msg, got)
					}
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		})
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		t.Fatalf("%d of %d flows failed; the first: %v", f, flows, firstErr.Load())
	}
	// Open files, less the pipes kept for splicing (two files each).
	files := func(st gateway.Status) int { return st.OpenFiles - 2*st.IdlePipes }
	var st gateway.Status
	for deadline := time.Now().Add(10 * time.Second); ; {
		st, _ = n.status()
		if len(st.Flows) == 0 && st.Goroutines <= base.Goroutines+2 && files(st) <= files(base)+2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(st.Flows) != 0 || st.Goroutines > base.Goroutines+2 || files(st) > files(base)+2 || st.Counters.Opened != flows || st.Counters.Closed != flows {
		b, _ := json.Marshal(st.Counters)
		t.Errorf("after %d flows: %d in the table, goroutines %d (were %d), open files but pipes %d (were %d), counters %s",
			flows, len(st.Flows), st.Goroutines, base.Goroutines, files(st), files(base), b)
	}
}
