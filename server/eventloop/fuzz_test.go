package eventloop_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/inetd"
	"github.com/netkit-dev/netkit/server/eventloop"
)

// FuzzEcho sends data through the event loop's echo service in chunks the
// fuzzer chooses, while the server reads 7 bytes at a time and queues a
// small output, so reads, writes, partial writes and resumptions are cut
// at arbitrary places. The echo must come back whole and in order. Inputs
// are cut to 16 KiB: thousands of 7-byte reads already, and an execution
// short enough for thousands a second.
func FuzzEcho(f *testing.F) {
	f.Add([]byte("hello, world"), []byte{1, 2, 3})
	f.Add(bytes.Repeat([]byte("x"), 16<<10), []byte{255, 0, 17})
	f.Add([]byte{}, []byte{})
	s := &eventloop.Server{Handler: inetd.Echo{}, Loops: 2, ReadBudget: 7, MaxOutput: 64}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	go s.Serve(context.Background(), l)
	defer s.Shutdown(context.Background())
	addr := l.Addr().String()
	f.Fuzz(func(t *testing.T, data, chunks []byte) {
		data = data[:min(len(data), 16<<10)]
		c, err := net.Dial("tcp4", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		go func() {
			rest := data
			for i := 0; len(rest) > 0; i++ {
				n := len(rest)
				if len(chunks) > 0 {
					n = min(int(chunks[i%len(chunks)])+1, len(rest))
				}
				if _, err := c.Write(rest[:n]); err != nil {
					return
				}
				rest = rest[n:]
			}
			c.(*net.TCPConn).CloseWrite()
		}()
		got, err := io.ReadAll(c)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("echoed %d bytes that differ from the %d sent", len(got), len(data))
		}
	})
}
