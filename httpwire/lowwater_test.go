//go:build linux

package httpwire

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/internal/testutil"
)

// TestLowWater reads a large body in batches (SO_RCVLOWAT raised)
// whose last bytes come late, then a small response on the same
// connection: every byte arrives, nothing waits for bytes that will not
// come, and the mark is back to 1 for the next head.
func TestLowWater(t *testing.T) {
	want := make([]byte, 6<<20+333)
	for i := range want {
		want[i] = byte(i*13 + i/509)
	}
	l := testutil.Listen(t, "tcp4")
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		if _, err := readRawRequest(br); err != nil {
			return
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(want))
		tail := len(want) - 1000
		c.Write(want[:tail])
		time.Sleep(100 * time.Millisecond) // the last 1,000 bytes come late
		c.Write(want[tail:])
		if _, err := readRawRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		io.Copy(io.Discard, c)
	}()
	t.Cleanup(func() { l.Close(); <-done })

	c := Client{LowWater: 256 << 10}
	defer c.CloseIdle()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "http://" + l.Addr().String()
	resp, err := c.Get(ctx, url+"/big")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b := resp.Body.(*body)
	var got bytes.Buffer
	buf := make([]byte, 256<<10)
	highest := 0
	for {
		n, err := b.Read(buf)
		got.Write(buf[:n])
		if b.lw != nil {
			highest = max(highest, b.lw.cur)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d bytes: %v", got.Len(), err)
		}
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("got %d bytes, not the %d sent", got.Len(), len(want))
	}
	if highest <= 1 || highest > 256<<10 {
		t.Errorf("the highest low-water mark was %d, want above 1 and at most 256 KiB", highest)
	}
	if b.lw.cur != 1 {
		t.Errorf("the mark is %d after the body, want 1", b.lw.cur)
	}
	resp2, err := c.Get(ctx, url+"/small")
	if err != nil {
		t.Fatal(err)
	}
	small, err := io.ReadAll(resp2.Body)
	if err != nil || string(small) != "ok" || !resp2.Reused {
		t.Fatalf("second response %q, %v, reused %v", small, err, resp2.Reused)
	}
}
