package server_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/internal/testutil"
	"github.com/netkit-dev/netkit/server"
)

// TestStreamHandler serves a line-upper-casing StreamHandler and checks
// that Shutdown cancels its context after the grace period.
func TestStreamHandler(t *testing.T) {
	testutil.CheckLeaks(t)
	ended := make(chan error, 1)
	s := &server.Server{
		Config: server.Config{DrainGrace: 50 * time.Millisecond},
		Stream: server.StreamFunc(func(ctx context.Context, c net.Conn) {
			context.AfterFunc(ctx, func() { c.Close() })
			sc := bufio.NewScanner(c)
			for sc.Scan() {
				io.WriteString(c, strings.ToUpper(sc.Text())+"\n")
			}
			ended <- ctx.Err()
		}),
	}
	l := testutil.Listen(t, "tcp4")
	served := make(chan error, 1)
	go func() { served <- s.Serve(context.Background(), l) }()
	c, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "hello\n")
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "HELLO\n" {
		t.Fatalf("read %q, %v", line, err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-ended; err != context.Canceled {
		t.Errorf("handler saw %v, want its context cancelled", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if st := s.Stats(); st.Accepted != 1 || st.Active != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestServeErrors(t *testing.T) {
	ctx := context.Background()
	if err := (&server.Server{}).Serve(ctx, testutil.Listen(t, "tcp4")); err != server.ErrNoHandler {
		t.Errorf("no handler: %v", err)
	}
	both := &server.Server{Handler: server.Base{}, Stream: server.StreamFunc(func(context.Context, net.Conn) {})}
	if err := both.Serve(ctx, testutil.Listen(t, "tcp4")); err != server.ErrTwoHandlers {
		t.Errorf("two handlers: %v", err)
	}
	s := &server.Server{Handler: server.Base{}}
	s.Shutdown(ctx)
	if err := s.Serve(ctx, testutil.Listen(t, "tcp4")); err != server.ErrServerClosed {
		t.Errorf("Serve after Shutdown: %v", err)
	}
}

// TestServeContextCancel: cancelling Serve's context closes every
// connection at once.
func TestServeContextCancel(t *testing.T) {
	testutil.CheckLeaks(t)
	s := &server.Server{Handler: server.Base{}}
	l := testutil.Listen(t, "tcp4")
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, l) }()
	c, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for s.Stats().Active != 1 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-served; err != context.Canceled {
		t.Errorf("Serve = %v, want context.Canceled", err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("client read %v, want EOF", err)
	}
}
