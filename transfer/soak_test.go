package transfer

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/impair"
)

// TestSoak moves files from 1 KiB to 256 MiB through netkit impair at 0,
// 1, 5, 20 and 30 percent loss, with reordering, duplication, corruption
// and a 3-second partition, and checks every one bit for bit. It takes
// minutes, so it runs only with NETKIT_SOAK=1 (make soak), not in CI.
func TestSoak(t *testing.T) {
	if os.Getenv("NETKIT_SOAK") != "1" {
		t.Skip("set NETKIT_SOAK=1 (make soak) to move 256 MiB through every fault")
	}
	sizes := []int64{1 << 10, 1 << 20, 64 << 20, 256 << 20}
	faults := map[string]impair.Faults{
		"0%":        {Delay: 2 * time.Millisecond},
		"1%":        {Loss: 0.01, Delay: 2 * time.Millisecond},
		"5%":        {Loss: 0.05, Delay: 2 * time.Millisecond},
		"20%":       {Loss: 0.20, Delay: time.Millisecond},
		"30%":       {Loss: 0.30, Delay: time.Millisecond},
		"reorder":   {Loss: 0.01, Delay: 2 * time.Millisecond, Jitter: time.Millisecond, Reorder: 0.02, Duplicate: 0.02, Corrupt: 0.01},
		"partition": {Delay: 2 * time.Millisecond, Down: []impair.Window{{At: time.Second, For: 3 * time.Second}}},
	}
	for name, f := range faults {
		for _, size := range sizes {
			if (name == "20%" || name == "30%") && size > 64<<20 {
				continue // hours at these rates; 64 MiB makes the point
			}
			t.Run(fmt.Sprintf("%s/%d", name, size), func(t *testing.T) {
				addr, dir, errs := receiver(t, false)
				front, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
				if err != nil {
					t.Fatal(err)
				}
				p := &impair.Proxy{To: addr, Up: f, Down: f, Seed: uint64(size)}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() { p.Serve(ctx, front); close(done) }()
				defer func() { cancel(); <-done }()
				path := filepath.Join(t.TempDir(), "soak.bin")
				want := writeRandom(t, path, size)
				res, err := Send(context.Background(), front.LocalAddr().String(), path, SendOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
				got := hashFile(t, filepath.Join(dir, "soak.bin"))
				if got != want {
					t.Fatal("the file changed on the way")
				}
				t.Logf("%s, %d bytes: %.1f Mbit/s, %d sent again, %d timeouts", name, size, res.GoodputMbps, res.Retransmitted, res.Timeouts)
			})
		}
	}
}

func writeRandom(t *testing.T, path string, size int64) [32]byte {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), randReader{}, size); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

func hashFile(t *testing.T, path string) [32]byte {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, f)
	return [32]byte(h.Sum(nil))
}

// randReader is a cheap stream of pseudo-random bytes.
type randReader struct{}

var state uint64 = 88172645463325252

func (randReader) Read(p []byte) (int, error) {
	for i := range p {
		state ^= state << 13
		state ^= state >> 7
		state ^= state << 17
		p[i] = byte(state)
	}
	return len(p), nil
}
