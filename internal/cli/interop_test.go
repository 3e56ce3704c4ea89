package cli

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/internal/testutil"
)

// Their clients against our servers.

func TestInteropNcatClient(t *testing.T) {
	ncat := testutil.Program(t, "ncat")
	eps := serveJSON(t, "echo", "tcp://127.0.0.1:0", "udp://127.0.0.1:0")
	host, port := splitEP(t, eps["tcp"])
	out, err := runWith(t, "ncat says hi\n", ncat, host, port)
	if err != nil || out != "ncat says hi\n" {
		t.Errorf("ncat against netkit serve echo: %q, %v", out, err)
	}
	_, uport := splitEP(t, eps["udp"])
	// ncat -u quits when stdin ends: keep stdin open while the echo comes.
	out, err = runWith(t, "", "sh", "-c", `(printf 'udp from ncat\n'; sleep 1) | "$0" -u "$1" "$2"`, ncat, host, uport)
	if !strings.Contains(out, "udp from ncat\n") {
		t.Errorf("ncat -u against netkit serve echo: %q, %v", out, err)
	}
}

func TestInteropSocatClient(t *testing.T) {
	socat := testutil.Program(t, "socat")
	eps := serveJSON(t, "echo", "tcp://127.0.0.1:0", "udp://127.0.0.1:0")
	host, port := splitEP(t, eps["tcp"])
	big := strings.Repeat("socat ", 50_000)
	out, err := runWith(t, big, socat, "-", "TCP:"+host+":"+port)
	if err != nil || out != big {
		t.Errorf("socat against netkit serve echo: %d of %d bytes, %v", len(out), len(big), err)
	}
	_, uport := splitEP(t, eps["udp"])
	out, err = runWith(t, "udp from socat\n", socat, "-T1", "-", "UDP:"+host+":"+uport)
	if err != nil || out != "udp from socat\n" {
		t.Errorf("socat UDP against netkit serve echo: %q, %v", out, err)
	}
	// socat as a client of netkit listen: both directions, then both close.
	l := start(t, strings.NewReader("from netkit\n"), "listen", "tcp://127.0.0.1:0")
	_, lport := splitEP(t, find(t, l.err, `listening on (tcp://\S+)`))
	out, err = runWith(t, "from socat\n", socat, "-", "TCP:127.0.0.1:"+lport)
	if err != nil || out != "from netkit\n" {
		t.Errorf("socat against netkit listen: %q, %v", out, err)
	}
	if code := l.wait(t); code != 0 || l.out.String() != "from socat\n" {
		t.Errorf("netkit listen: exit %d, got %q", code, l.out.String())
	}
}

func TestInteropNcatClientOfListen(t *testing.T) {
	ncat := testutil.Program(t, "ncat")
	l := start(t, strings.NewReader("hello ncat\n"), "listen", "tcp://127.0.0.1:0")
	_, port := splitEP(t, find(t, l.err, `listening on (tcp://\S+)`))
	out, err := runWith(t, "hello netkit\n", ncat, "127.0.0.1", port)
	if err != nil || out != "hello ncat\n" {
		t.Errorf("ncat against netkit listen: %q, %v", out, err)
	}
	if code := l.wait(t); code != 0 || l.out.String() != "hello netkit\n" {
		t.Errorf("netkit listen: exit %d, got %q", code, l.out.String())
	}
}

func TestInteropNetcatZero(t *testing.T) {
	nc := testutil.Program(t, "nc.openbsd")
	l := start(t, nil, "listen", "-k", "tcp://127.0.0.1:0")
	_, port := splitEP(t, find(t, l.err, `listening on (tcp://\S+)`))
	if out, err := exec.Command(nc, "-z", "-w", "2", "127.0.0.1", port).CombinedOutput(); err != nil {
		t.Errorf("nc -z against netkit listen -k: %v: %s", err, out)
	}
	closed := freePort(t)
	if err := exec.Command(nc, "-z", "-w", "2", "127.0.0.1", closed).Run(); err == nil {
		t.Errorf("nc -z against a closed port succeeded")
	}
}

func TestInteropPythonThankYou(t *testing.T) {
	py := testutil.Program(t, "python3")
	// Their client, our server.
	eps := serveJSON(t, "hello", "tcp://127.0.0.1:0")
	_, port := splitEP(t, eps["tcp"])
	out, err := exec.Command(py, "testdata/thankyou_client.py", port).CombinedOutput()
	if err != nil || string(out) != "Thank you for connecting\n" {
		t.Errorf("the tutorials' client against netkit serve hello: %q, %v", out, err)
	}
	// Their server, our client.
	srv := startPeer(t, nil, py, "testdata/thankyou_server.py", "1")
	sport := srv.firstLine(t)
	got, stderr, code := connect(t, "", "tcp://127.0.0.1:"+sport)
	if code != 0 || got != "Thank you for connecting\n" {
		t.Errorf("netkit connect against the tutorials' server: exit %d, %q, %q", code, got, stderr)
	}
}

func TestInteropPythonEchoServers(t *testing.T) {
	py := testutil.Program(t, "python3")
	tcp := startPeer(t, nil, py, "testdata/tcp_echo_server.py")
	port := tcp.firstLine(t)
	big := strings.Repeat("python ", 100_000)
	got, stderr, code := connect(t, big, "tcp://127.0.0.1:"+port)
	if code != 0 || got != big {
		t.Errorf("netkit connect against socketserver echo: exit %d, %d of %d bytes, %q", code, len(got), len(big), stderr)
	}
	udp := startPeer(t, nil, py, "testdata/udp_echo_server.py")
	uport := udp.firstLine(t)
	got, stderr, code = connect(t, "one\ntwo\n", "-q", "0.5", "udp://127.0.0.1:"+uport)
	if code != 0 || got != "one\ntwo\n" {
		t.Errorf("netkit connect udp against socketserver echo: exit %d, %q, %q", code, got, stderr)
	}
}

func TestInteropSocatServer(t *testing.T) {
	socat := testutil.Program(t, "socat")
	srv := startPeer(t, nil, socat, "-d", "-d", "TCP-LISTEN:0,bind=127.0.0.1,reuseaddr", "EXEC:cat")
	port := find(t, srv.stderr, `listening on AF=2 127\.0\.0\.1:(\d+)`)
	got, stderr, code := connect(t, "through cat\n", "tcp://127.0.0.1:"+port)
	if code != 0 || got != "through cat\n" {
		t.Errorf("netkit connect against socat EXEC:cat: exit %d, %q, %q", code, got, stderr)
	}
}

// TestInteropNcatServer runs ncat in a network namespace of the test's
// own, where a fixed port is surely free, and connects to it from there.
// (Not ncat -e: ncat closes the connection as soon as the client
// half-closes, before the program's reply is sent.)
func TestInteropNcatServer(t *testing.T) {
	ncat := testutil.Program(t, "ncat")
	ns := testutil.NewNetns(t)
	got := filepath.Join(t.TempDir(), "ncat.out")
	srv := ns.Command("sh", "-c", `(printf 'from ncat\n'; sleep 1) | "$0" -l 127.0.0.1 12345 > "$1"`, ncat, got)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	var out, stderr string
	var code int
	deadline := time.Now().Add(10 * time.Second)
	for {
		// Run on this goroutine, whose thread Do moved into the
		// namespace, so that the socket is made there.
		ns.Do(func() error {
			var o, e syncBuf
			code = Run(context.Background(), []string{"connect", "tcp://127.0.0.1:12345"},
				&IO{In: strings.NewReader("from netkit\n"), Out: &o, Err: &e, Getenv: func(string) string { return "" }})
			out, stderr = o.String(), e.String()
			return nil
		})
		if code == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // ncat is not listening yet
	}
	if code != 0 || out != "from ncat\n" {
		t.Errorf("netkit connect against ncat -l: exit %d, %q, %q", code, out, stderr)
	}
	srv.Wait()
	if b, _ := os.ReadFile(got); string(b) != "from netkit\n" {
		t.Errorf("ncat -l received %q", b)
	}
}

func TestInteropSocatThroughForward(t *testing.T) {
	socat := testutil.Program(t, "socat")
	eps := serveJSON(t, "echo", "tcp://127.0.0.1:0")
	f := start(t, nil, "forward", "tcp://127.0.0.1:0", eps["tcp"])
	_, port := splitEP(t, find(t, f.err, `listening (tcp://\S+) ->`))
	big := strings.Repeat("forward ", 200_000)
	out, err := runWith(t, big, socat, "-", "TCP:127.0.0.1:"+port)
	if err != nil || out != big {
		t.Errorf("socat through netkit forward: %d of %d bytes, %v", len(out), len(big), err)
	}
}

func splitEP(t *testing.T, ep string) (host, port string) {
	t.Helper()
	_, hp, _ := strings.Cut(ep, "://")
	ap, err := netip.ParseAddrPort(hp)
	if err != nil {
		t.Fatalf("endpoint %q: %v", ep, err)
	}
	return ap.Addr().String(), strconv.Itoa(int(ap.Port()))
}

func freePort(t *testing.T) string {
	l := testutil.Listen(t, "tcp4")
	_, port := splitEP(t, "tcp://"+l.Addr().String())
	l.Close()
	return port
}

// runWith runs a peer program with stdin and returns its stdout; stderr
// goes into the error.
func runWith(t *testing.T, stdin string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var errb strings.Builder
	cmd.Stderr = &errb
	done := make(chan struct{})
	timer := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	out, err := cmd.Output()
	close(done)
	if err != nil {
		return string(out), fmt.Errorf("%s: %w: %s", name, err, errb.String())
	}
	return string(out), nil
}
