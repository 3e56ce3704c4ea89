package cli

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// serveJSON starts netkit serve with --json and returns the endpoints it
// listens on, by scheme.
func serveJSON(t *testing.T, args ...string) map[string]string {
	t.Helper()
	r := start(t, nil, append([]string{"serve", "--json"}, args...)...)
	eps := map[string]string{}
	want := strings.Count(strings.Join(args, " "), "://")
	deadline := time.Now().Add(10 * time.Second)
	for len(eps) < want && time.Now().Before(deadline) {
		for _, line := range strings.Split(r.out.String(), "\n") {
			var ev connEvent
			if json.Unmarshal([]byte(line), &ev) == nil && ev.Event == "listening" {
				scheme, _, _ := strings.Cut(ev.Endpoint, "://")
				eps[scheme] = ev.Endpoint
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(eps) < want {
		t.Fatalf("serve %v: listening on %v; stderr %q", args, eps, r.err.String())
	}
	return eps
}

// connect runs netkit connect to completion.
func connect(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	r := start(t, strings.NewReader(stdin), append([]string{"connect"}, args...)...)
	code = r.wait(t)
	return r.out.String(), r.err.String(), code
}

func TestServeAndConnect(t *testing.T) {
	eps := serveJSON(t, "echo", "tcp://127.0.0.1:0", "udp://127.0.0.1:0")
	out, errOut, code := connect(t, "hello\nworld\n", eps["tcp"])
	if code != 0 || out != "hello\nworld\n" {
		t.Errorf("tcp echo: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, errOut, code = connect(t, "one\ntwo\n", "-q", "0.5", eps["udp"])
	if code != 0 || out != "one\ntwo\n" {
		t.Errorf("udp echo: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	hello := serveJSON(t, "hello", "tcp://127.0.0.1:0")
	out, _, code = connect(t, "", hello["tcp"])
	if code != 0 || out != "Thank you for connecting\n" {
		t.Errorf("hello: exit %d, stdout %q", code, out)
	}
}

func TestServeJSONEvents(t *testing.T) {
	r := start(t, nil, "serve", "--json", "echo", "tcp://127.0.0.1:0")
	ep := find(t, r.out, `"endpoint":"(tcp://[^"]+)"`)
	connect(t, "12345", ep)
	line := find(t, r.out, `("event":"closed"[^\n]*)`)
	for _, want := range []string{`"bytes_in":5`, `"bytes_out":5`, `"duration_ms":`, `"service":"echo"`} {
		if !strings.Contains(line, want) {
			t.Errorf("closed event %s lacks %s", line, want)
		}
	}
	find(t, r.out, `"event":"accepted"`)
}

func TestServeBadUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "gopher"}, `unknown service "gopher"`},
		{[]string{"serve", "chat", "udp://127.0.0.1:0"}, "chat has no UDP form"},
		{[]string{"serve", "echo", "--engine", "fibers"}, `unknown --engine "fibers"`},
		{[]string{"serve", "echo", "tcp://127.0.0.1:70000"}, "invalid port 70000"},
		{[]string{"serve", "echo", "--allow", "10.0.0.1/8"}, "host bits are set"},
	} {
		_, stderr, code := run(t, tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}

func TestConnectErrors(t *testing.T) {
	l, _ := net.Listen("tcp4", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"connect", "tcp://127.0.0.1:66000"}, 2, `invalid port 66000 in "tcp://127.0.0.1:66000": ports are 0-65535`},
		{[]string{"connect", closed}, 1, "connection refused (nothing listens there, or a firewall rejects it)"},
		{[]string{"connect", "tcp://no-such-host.invalid:80"}, 1, "cannot resolve no-such-host.invalid: no such host"},
		{[]string{"connect", "tcp://127.0.0.1:0"}, 2, "port 0"},
		{[]string{"connect", "-z", "tcp://127.0.0.1:5-1"}, 2, "backward range"},
		{[]string{"connect", "-z", "udp://127.0.0.1:5"}, 2, "zero-I/O checks (-z) are for tcp"},
		{[]string{"connect", "--send-only", "--recv-only", closed}, 2, "exclude each other"},
		{[]string{"connect", "-s", "nowhere", closed}, 2, `invalid -s "nowhere"`},
	} {
		_, stderr, code := run(t, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}

func TestConnectZero(t *testing.T) {
	l1, _ := net.Listen("tcp4", "127.0.0.1:0")
	defer l1.Close()
	l2, _ := net.Listen("tcp4", "127.0.0.1:0")
	p2 := l2.Addr().(*net.TCPAddr).Port
	l2.Close()
	p1 := l1.Addr().(*net.TCPAddr).Port
	spec := "tcp://127.0.0.1:" + itoa(p1) + "," + itoa(p2)
	out, _, code := run(t, "connect", "-z", spec)
	if code != 1 || !strings.Contains(out, ":"+itoa(p1)+" open") || !strings.Contains(out, ":"+itoa(p2)+" closed") {
		t.Errorf("-z %s: exit %d, stdout %q", spec, code, out)
	}
	out, _, code = run(t, "connect", "-z", "127.0.0.1:"+itoa(p1))
	if code != 0 || !strings.Contains(out, "open") {
		t.Errorf("-z open port: exit %d, stdout %q", code, out)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestListenConnect(t *testing.T) {
	l := start(t, strings.NewReader("from the server\n"), "listen", "tcp://127.0.0.1:0")
	ep := find(t, l.err, `listening on (tcp://\S+)`)
	out, stderr, code := connect(t, "from the client\n", ep)
	if code != 0 || out != "from the server\n" {
		t.Errorf("connect: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	if code := l.wait(t); code != 0 || l.out.String() != "from the client\n" {
		t.Errorf("listen: exit %d, stdout %q, stderr %q", code, l.out.String(), l.err.String())
	}
}

func TestListenCRLFAndHex(t *testing.T) {
	l := start(t, nil, "listen", "--recv-only", "tcp://127.0.0.1:0")
	ep := find(t, l.err, `listening on (tcp://\S+)`)
	_, stderr, code := connect(t, "a\nb\r\n", "--crlf", "--hex", ep)
	if code != 0 {
		t.Fatalf("connect: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "> 00000000  61 0d 0a 62 0d 0a") || !strings.Contains(stderr, "|a..b..|") {
		t.Errorf("hexdump %q", stderr)
	}
	l.wait(t)
	if got := l.out.String(); got != "a\r\nb\r\n" {
		t.Errorf("listen got %q, want CRLF line ends and no doubled CR", got)
	}
}

func TestListenKeepBroadcast(t *testing.T) {
	stdinR, stdinW := io.Pipe()
	defer stdinW.Close()
	l := start(t, stdinR, "listen", "-k", "tcp://127.0.0.1:0")
	addr := strings.TrimPrefix(find(t, l.err, `listening on (tcp://\S+)`), "tcp://")
	var conns []net.Conn
	for i := range 3 {
		c, err := net.Dial("tcp4", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "client "+itoa(i)+"\n")
		conns = append(conns, c)
	}
	for i := range 3 {
		find(t, l.out, "client "+itoa(i)+"\n")
	}
	io.WriteString(stdinW, "to everyone\n")
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || line != "to everyone\n" {
			t.Errorf("client %d got %q, %v", i, line, err)
		}
	}
}

func TestListenExec(t *testing.T) {
	l := start(t, nil, "listen", "-k", "tcp://127.0.0.1:0", "--exec", "tr", "--", "a-z", "A-Z")
	ep := find(t, l.err, `listening on (tcp://\S+)`)
	for range 2 {
		out, stderr, code := connect(t, "shout\n", ep)
		if code != 0 || out != "SHOUT\n" {
			t.Errorf("connect to --exec tr: exit %d, stdout %q, stderr %q", code, out, stderr)
		}
	}
	_, stderr, code := run(t, "listen", "tcp://127.0.0.1:0", "--exec", "/no/such/program")
	if code != 2 || !strings.Contains(stderr, "no such program") {
		t.Errorf("missing program: exit %d, %q", code, stderr)
	}
}

func TestListenBroker(t *testing.T) {
	l := start(t, nil, "listen", "-k", "--broker", "tcp://127.0.0.1:0")
	addr := strings.TrimPrefix(find(t, l.err, `listening on (tcp://\S+)`), "tcp://")
	a, _ := net.Dial("tcp4", addr)
	defer a.Close()
	b, _ := net.Dial("tcp4", addr)
	defer b.Close()
	// Wait until both are in the group: a message from b reaches a.
	deadline := time.Now().Add(5 * time.Second)
	got := ""
	rd := bufio.NewReader(a)
	for got == "" && time.Now().Before(deadline) {
		io.WriteString(b, "ping\n")
		a.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		got, _ = rd.ReadString('\n')
	}
	if got != "ping\n" {
		t.Fatalf("broker relayed %q", got)
	}
}

func TestListenDeny(t *testing.T) {
	l := start(t, nil, "listen", "-k", "--deny", "127.0.0.0/8", "tcp://127.0.0.1:0")
	addr := strings.TrimPrefix(find(t, l.err, `listening on (tcp://\S+)`), "tcp://")
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err == nil {
		t.Errorf("denied client read %d bytes", n)
	}
	find(t, l.err, `rejected 127\.0\.0\.1:\d+: 127\.0\.0\.1 is denied by --deny 127\.0\.0\.0/8`)
}

func TestListenUDP(t *testing.T) {
	stdinR, stdinW := io.Pipe()
	defer stdinW.Close()
	l := start(t, stdinR, "listen", "udp://127.0.0.1:0")
	addr := strings.TrimPrefix(find(t, l.err, `listening on (udp://\S+)`), "udp://")
	c, err := net.Dial("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("datagram one\n"))
	find(t, l.out, "datagram one\n")
	io.WriteString(stdinW, "reply\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "reply\n" {
		t.Errorf("peer got %q, %v", buf[:n], err)
	}
}

func TestListenUDPExec(t *testing.T) {
	l := start(t, nil, "listen", "-k", "udp://127.0.0.1:0", "--exec", "cat")
	addr := strings.TrimPrefix(find(t, l.err, `listening on (udp://\S+)`), "udp://")
	// Two peers, each with its own cat: replies go to the right peer.
	for i := range 2 {
		c, err := net.Dial("udp4", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		msg := "peer " + itoa(i) + "\n"
		c.Write([]byte(msg))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 100)
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != msg {
			t.Errorf("peer %d got %q, %v", i, buf[:n], err)
		}
	}
}

func TestForward(t *testing.T) {
	eps := serveJSON(t, "echo", "tcp://127.0.0.1:0", "udp://127.0.0.1:0")
	f := start(t, nil, "forward", "tcp://127.0.0.1:0", eps["tcp"])
	fwd := find(t, f.err, `listening (tcp://\S+) ->`)
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	out, stderr, code := connect(t, big, fwd)
	if code != 0 || out != big {
		t.Errorf("through the forwarder: exit %d, %d of %d bytes, stderr %q", code, len(out), len(big), stderr)
	}
	fu := start(t, nil, "forward", "udp://127.0.0.1:0", eps["udp"])
	fwdU := find(t, fu.err, `listening (udp://\S+) ->`)
	out, stderr, code = connect(t, "over udp\n", "-q", "0.5", fwdU)
	if code != 0 || out != "over udp\n" {
		t.Errorf("through the UDP forwarder: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	_, stderr, code = run(t, "forward", "tcp://127.0.0.1:0", eps["udp"])
	if code != 2 || !strings.Contains(stderr, "both must be datagram") {
		t.Errorf("tcp to udp: exit %d, %q", code, stderr)
	}
}

func TestForwardDeny(t *testing.T) {
	eps := serveJSON(t, "echo", "tcp://127.0.0.1:0")
	f := start(t, nil, "forward", "--json", "--deny", "127.0.0.1", "tcp://127.0.0.1:0", eps["tcp"])
	fwd := find(t, f.out, `"endpoint":"(tcp://[^"]+)"`)
	out, _, _ := connect(t, "x", fwd)
	if out != "" {
		t.Errorf("denied client got %q", out)
	}
	find(t, f.out, `"event":"rejected".*"reason":"127\.0\.0\.1 is denied by --deny 127\.0\.0\.1/32"`)
}

func TestServeEventLoop(t *testing.T) {
	for _, svc := range []string{"echo", "hello", "chargen", "daytime", "discard", "time", "qotd", "chat"} {
		t.Run(svc, func(t *testing.T) {
			eps := serveJSON(t, "--engine", "eventloop", svc, "tcp://127.0.0.1:0")
			switch svc {
			case "echo":
				out, stderr, code := connect(t, "over epoll\n", eps["tcp"])
				if code != 0 || out != "over epoll\n" {
					t.Errorf("exit %d, %q, %q", code, out, stderr)
				}
			case "hello":
				out, _, code := connect(t, "", eps["tcp"])
				if code != 0 || out != "Thank you for connecting\n" {
					t.Errorf("exit %d, %q", code, out)
				}
			default:
				// Each service at least accepts and answers or closes.
				_, stderr, code := run(t, "connect", "-z", eps["tcp"])
				if code != 0 {
					t.Errorf("-z: exit %d: %s", code, stderr)
				}
			}
		})
	}
}

// TestBenchEcho runs netkit bench echo against netkit serve echo on both
// engines, kept-alive and --fresh, and checks what it reports; and its
// bad usage.
func TestBenchEcho(t *testing.T) {
	for _, engine := range []string{"goroutine", "eventloop"} {
		ep := serveJSON(t, "echo", "--engine", engine, "tcp://127.0.0.1:0")["tcp"]
		for _, mode := range [][]string{{"-c", "3", "--depth", "2"}, {"-c", "3", "--fresh"}} {
			args := append([]string{"bench", "echo", ep, "-d", "300ms", "--warmup", "-1s", "-s", "100", "--json"}, mode...)
			stdout, stderr, code := run(t, args...)
			var res struct {
				Requests uint64 `json:"requests"`
				All      uint64 `json:"requests_with_warmup"`
				Errors   uint64 `json:"errors"`
				Fresh    bool   `json:"fresh_connections"`
				Conns    int    `json:"connections"`
				Payload  int    `json:"payload_bytes"`
			}
			if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil {
				t.Fatalf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
			}
			fresh := mode[len(mode)-1] == "--fresh"
			// With no warm-up, the only echoes not counted are those
			// that came back after the end: at most one per request
			// in flight (3 connections, 2 deep or fresh).
			if res.Requests < 20 || res.All < res.Requests || res.All > res.Requests+6 || res.Errors != 0 || res.Fresh != fresh || res.Conns != 3 || res.Payload != 100 {
				t.Errorf("%s %v: %+v", engine, mode, res)
			}
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "echo", "tcp://127.0.0.1:9", "--fresh", "--depth", "2"}, "--fresh sends one request per connection"},
		{[]string{"bench", "echo", "tcp://127.0.0.1:9", "--loops", "-1"}, "--loops not negative"},
		{[]string{"bench", "echo", "udp://127.0.0.1:9"}, "needs a stream endpoint"},
	} {
		_, stderr, code := run(t, tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}
