package netcat

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/internal/testutil"

	"github.com/netkit-dev/netkit/acl"
	"github.com/netkit-dev/netkit/server"
)

func TestDumperOffsets(t *testing.T) {
	var b bytes.Buffer
	d := NewDumper(&b)
	d.Sent([]byte("ab"))
	d.Received([]byte("x"))
	d.Sent([]byte("cd"))
	want := []string{"> 00000000  61 62", "< 00000000  78", "> 00000002  63 64"}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("dump %q", b.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], w)
		}
	}
	var nilDumper *Dumper
	nilDumper.Sent([]byte("no panic"))
}

func TestAppendHexdump(t *testing.T) {
	got := string(AppendHexdump(nil, '<', 16, []byte("0123456789abcdef\x00z")))
	want := "< 00000010  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|\n" +
		"< 00000020  00 7a                                             |.z|\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestAppendCRLF(t *testing.T) {
	tests := []struct {
		in     string
		prevCR bool
		want   string
	}{
		{"a\nb\n", false, "a\r\nb\r\n"},
		{"a\r\n", false, "a\r\n"},
		{"\n", true, "\n"}, // the CR came in the previous chunk
		{"\n\n", false, "\r\n\r\n"},
	}
	for _, tt := range tests {
		got, _ := AppendCRLF(nil, []byte(tt.in), tt.prevCR)
		if string(got) != tt.want {
			t.Errorf("AppendCRLF(%q, %v) = %q, want %q", tt.in, tt.prevCR, got, tt.want)
		}
	}
}

// listenTCP returns a loopback listener that the test closes.
func listenTCP(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// TestBridgeHalfClose: the input's end reaches the peer as EOF, and the
// peer's answer, sent after that EOF, still arrives.
func TestBridgeHalfClose(t *testing.T) {
	l := listenTCP(t)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		got, _ := io.ReadAll(c) // until the bridge's half-close
		c.Write([]byte("thank you for " + strings.ToUpper(string(got))))
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Bridge(context.Background(), c, strings.NewReader("connecting"), &out, Options{}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "thank you for CONNECTING" {
		t.Errorf("out = %q", out.String())
	}
}

func TestBridgeIdle(t *testing.T) {
	l := listenTCP(t)
	go func() {
		c, err := l.Accept()
		if err == nil {
			time.Sleep(2 * time.Second)
			c.Close()
		}
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe() // input that never ends
	defer pw.Close()
	err = Bridge(context.Background(), c, pr, io.Discard, Options{Idle: 100 * time.Millisecond})
	if !errors.Is(err, ErrIdle) {
		t.Fatalf("err = %v, want ErrIdle", err)
	}
}

// TestBridgeUDP: each input line goes as one datagram, CRLF converted,
// and the replies are written out.
func TestBridgeUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	got := make(chan string, 4)
	go func() {
		buf := make([]byte, 100)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			got <- string(buf[:n])
			pc.WriteTo([]byte("ok\n"), from)
		}
	}()
	c, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = Bridge(context.Background(), c, strings.NewReader("one\ntwo\n"), &out, Options{CRLF: true, Quit: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := <-got, <-got; a != "one\r\n" || b != "two\r\n" {
		t.Errorf("datagrams %q %q", a, b)
	}
	if out.String() != "ok\nok\n" {
		t.Errorf("out = %q", out.String())
	}
}

func TestBridgeLongDatagram(t *testing.T) {
	c, err := net.Dial("udp", "127.0.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	err = Bridge(context.Background(), c, strings.NewReader(strings.Repeat("x", MaxDatagram+1)), io.Discard, Options{RecvOnly: false, SendOnly: true})
	if !errors.Is(err, ErrLongLine) {
		t.Fatalf("err = %v, want ErrLongLine", err)
	}
}

// TestServeOne: one client, filtered by the access list; a denied one
// is reported and the next is served.
func TestServeOne(t *testing.T) {
	l := listenTCP(t)
	deny := acl.New(nil, nil)
	var rejected []string
	first := true
	cfg := ListenConfig{
		Server: server.Config{Filter: func(ap netip.AddrPort) error {
			if first {
				first = false
				return errors.New("first is turned away")
			}
			return deny.Check(ap.Addr())
		}},
		OnReject: func(remote net.Addr, err error) { rejected = append(rejected, err.Error()) },
	}
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() { done <- Serve(context.Background(), l, strings.NewReader("welcome\n"), &out, cfg) }()
	c1, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := c1.Read(make([]byte, 1)); n != 0 {
		t.Errorf("rejected client read %d bytes", n)
	}
	c2, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c2.Write([]byte("hi\n"))
	c2.(*net.TCPConn).CloseWrite()
	got, _ := io.ReadAll(c2)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if string(got) != "welcome\n" || out.String() != "hi\n" {
		t.Errorf("client got %q, out %q", got, out.String())
	}
	if len(rejected) != 1 {
		t.Errorf("rejected %q", rejected)
	}
}

// TestServeKeep: with Keep every client's data is printed, and input
// lines reach every client.
func TestServeKeep(t *testing.T) {
	l := listenTCP(t)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	out := &testutil.SyncBuffer{}
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, l, pr, out, ListenConfig{Keep: true}) }()
	var cs []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cs = append(cs, c)
	}
	cs[0].Write([]byte("from one\n"))
	cs[1].Write([]byte("from two\n"))
	waitFor(t, func() bool {
		s := out.String()
		return strings.Contains(s, "from one") && strings.Contains(s, "from two")
	})
	pw.Write([]byte("to all\n"))
	for i, c := range cs {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 7)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "to all\n" {
			t.Errorf("client %d got %q, %v", i, buf, err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		cfg  ListenConfig
		want string
	}{
		{ListenConfig{Broker: true}, "needs Keep"},
		{ListenConfig{Broker: true, Keep: true, Program: &Program{Path: "cat"}}, "runs no program"},
		{ListenConfig{Bridge: Options{SendOnly: true, RecvOnly: true}}, "exclude each other"},
		{ListenConfig{Program: &Program{Path: "/no/such/program"}}, "no such program"},
		{ListenConfig{Keep: true, Broker: true}, ""},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatal("timed out waiting")
}
