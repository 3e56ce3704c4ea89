package inetd

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/server"
)

// start serves h on the goroutine engine and returns its address.
func start(t *testing.T, h server.Handler) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &server.Server{Handler: h}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), l) }()
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		<-done
	})
	return l.Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	return c
}

func TestHello(t *testing.T) {
	c := dial(t, start(t, Hello{}))
	got, err := io.ReadAll(c)
	if err != nil || string(got) != HelloMessage {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestDaytimeAndTimeUseTheClock(t *testing.T) {
	at := time.Date(2026, 12, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return at }
	got, _ := io.ReadAll(dial(t, start(t, &Daytime{Now: clock})))
	if string(got) != "Wed, 02 Dec 2026 03:04:05 +0000\r\n" {
		t.Errorf("daytime %q", got)
	}
	got, _ = io.ReadAll(dial(t, start(t, &Time{Now: clock})))
	if !bytes.Equal(got, TimeBytes(at)) || len(got) != 4 {
		t.Errorf("time %x", got)
	}
	// RFC 868's example: 2,398,291,200 is 1976-01-01 00:00 GMT.
	if b := TimeBytes(time.Date(1976, 1, 1, 0, 0, 0, 0, time.UTC)); !bytes.Equal(b, []byte{0x8e, 0xf3, 0x05, 0x00}) {
		t.Errorf("TimeBytes(1976) = %x", b)
	}
}

func TestChargenStream(t *testing.T) {
	s := ChargenStream(74 * 2)
	lines := strings.Split(string(s), "\r\n")
	// RFC 864: 72 characters a line, each line starting one character
	// later in the ring of 95 printable characters (from the space, as
	// BSD's inetd has it).
	if len(lines[0]) != 72 || lines[0][0] != ' ' || lines[1][0] != '!' || lines[0][1:] != lines[1][:71] {
		t.Errorf("lines %q", lines[:2])
	}
}

func TestChat(t *testing.T) {
	var console strings.Builder
	room := &Chat{Console: &console}
	addr := start(t, room)
	ca := dial(t, addr)
	ra := bufio.NewReader(ca)
	if line, _ := ra.ReadString('\n'); !strings.HasPrefix(line, "* welcome, guest") {
		t.Fatalf("welcome %q", line)
	}
	cb := dial(t, addr)
	rb := bufio.NewReader(cb)
	rb.ReadString('\n') // welcome
	if line, _ := ra.ReadString('\n'); !strings.HasSuffix(line, "joined\n") {
		t.Errorf("join notice %q", line)
	}
	io.WriteString(cb, "/nick bob\n")
	if line, _ := rb.ReadString('\n'); line != "* you are now bob\n" {
		t.Errorf("rename %q", line)
	}
	ra.ReadString('\n') // "* guestN is now bob"
	io.WriteString(cb, "hello room\n")
	if line, _ := ra.ReadString('\n'); line != "<bob> hello room\n" {
		t.Errorf("said %q", line)
	}
	room.Say("closing soon")
	if line, _ := rb.ReadString('\n'); line != "<server> closing soon\n" {
		t.Errorf("server said %q", line)
	}
}

func TestLookup(t *testing.T) {
	for _, name := range []string{"echo", "discard", "daytime", "time", "chargen", "qotd", "chat", "hello"} {
		s, ok := Lookup(name)
		if !ok || s.New == nil || s.New() == nil {
			t.Errorf("Lookup(%q) = %+v, %v", name, s, ok)
		}
	}
	if _, ok := Lookup("gopher"); ok {
		t.Error("Lookup(gopher) found something")
	}
}

func TestServe(t *testing.T) {
	hello, _ := Lookup("hello")
	ctx, cancel := context.WithCancel(context.Background())
	bound := make(chan endpoint.Endpoint, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ServeConfig{Service: hello, Endpoints: []endpoint.Endpoint{endpoint.MustParse("tcp://127.0.0.1:0")},
			OnListen: func(e endpoint.Endpoint) { bound <- e }})
	}()
	e := <-bound
	if e.Port == 0 {
		t.Fatalf("OnListen got %s, not the bound port", e)
	}
	c, err := endpoint.Dial(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(c)
	c.Close()
	if string(got) != HelloMessage {
		t.Errorf("got %q", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after ctx ended: %v", err)
	}
	chat, _ := Lookup("chat")
	if err := Serve(context.Background(), ServeConfig{Service: chat, Endpoints: []endpoint.Endpoint{endpoint.MustParse("udp://127.0.0.1:0")}}); err == nil || !strings.Contains(err.Error(), "no UDP form") {
		t.Errorf("chat over UDP: %v", err)
	}
}
