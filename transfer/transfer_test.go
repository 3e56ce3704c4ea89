package transfer

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/impair"
	"github.com/netkit-dev/netkit/rudp"
)

// receiver starts a Receiver into a fresh directory and returns its
// address and directory; results arrive on the channel.
func receiver(t *testing.T, force bool) (string, string, chan error) {
	t.Helper()
	dir := t.TempDir()
	l, err := rudp.Listen("udp", "127.0.0.1:0", rudp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 10)
	r := &Receiver{Dir: dir, Force: force, Done: func(_ *Result, err error) { errs <- err }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Serve(ctx, l, true); close(done) }()
	t.Cleanup(func() { cancel(); <-done; l.Close() })
	return l.Addr().String(), dir, errs
}

func randomFile(t *testing.T, n int) (string, []byte) {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	p := filepath.Join(t.TempDir(), "data.bin")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p, b
}

func TestSendAndReceive(t *testing.T) {
	addr, dir, errs := receiver(t, false)
	for _, n := range []int{0, 1, 1 << 10, 3 << 20} {
		path, data := randomFile(t, n)
		name := fmt.Sprintf("f%d.bin", n)
		res, err := Send(context.Background(), addr, path, SendOptions{Name: name})
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if err := <-errs; err != nil {
			t.Fatalf("receiver: %v", err)
		}
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: the received file differs (%v)", n, err)
		}
		if res.Bytes != int64(n) || res.SHA256 != hex.EncodeToString(sha(data)) {
			t.Fatalf("result %+v", res)
		}
	}
	// No overwrite without Force.
	path, _ := randomFile(t, 10)
	_, err := Send(context.Background(), addr, path, SendOptions{Name: "f1.bin"})
	if _, ok := errors.AsType[*RemoteError](err); !ok {
		t.Fatalf("sending over an existing file: %v, want a RemoteError", err)
	}
	<-errs
}

func sha(b []byte) []byte { h := sha256.Sum256(b); return h[:] }

func TestThroughALossyLink(t *testing.T) {
	addr, dir, errs := receiver(t, false)
	front, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	f := impair.Faults{Loss: 0.05, Delay: time.Millisecond, Reorder: 0.01, Duplicate: 0.01, Corrupt: 0.005}
	p := &impair.Proxy{To: addr, Up: f, Down: f, Seed: 3}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Serve(ctx, front); close(done) }()
	defer func() { cancel(); <-done }()

	path, data := randomFile(t, 1<<20)
	res, err := Send(context.Background(), front.LocalAddr().String(), path, SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "data.bin"))
	if !bytes.Equal(got, data) {
		t.Fatal("the file changed on the way")
	}
	if res.Retransmitted == 0 {
		t.Fatalf("nothing resent through 5%% loss: %+v", res)
	}
	t.Logf("%+v; impair %+v", res, p.Stats())
}

// A partial file from an earlier try is resumed: only the rest moves.
func TestResume(t *testing.T) {
	addr, dir, errs := receiver(t, false)
	path, data := randomFile(t, 100000)
	o := Offer{Name: "data.bin", Size: int64(len(data)), SHA256: hex.EncodeToString(sha(data))}
	if err := os.WriteFile(filepath.Join(dir, Partial(o)), data[:60000], 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := Send(context.Background(), addr, path, SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if res.Resumed != 60000 || res.Bytes != 40000 {
		t.Fatalf("resumed %d, sent %d; want 60000 and 40000", res.Resumed, res.Bytes)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "data.bin"))
	if !bytes.Equal(got, data) {
		t.Fatal("the resumed file differs")
	}
	if _, err := os.Stat(filepath.Join(dir, Partial(o))); !os.IsNotExist(err) {
		t.Fatalf("the partial file is still there: %v", err)
	}
}

// A partial file whose bytes are not the offered file's fails the digest
// and is kept under a marked name, never under the file's own.
func TestDigestMismatchIsKeptApart(t *testing.T) {
	addr, dir, errs := receiver(t, false)
	path, data := randomFile(t, 1000)
	o := Offer{Name: "data.bin", Size: int64(len(data)), SHA256: hex.EncodeToString(sha(data))}
	os.WriteFile(filepath.Join(dir, Partial(o)), bytes.Repeat([]byte{'x'}, 500), 0o600)
	_, err := Send(context.Background(), addr, path, SendOptions{})
	if _, ok := errors.AsType[*RemoteError](err); !ok {
		t.Fatalf("Send = %v, want a RemoteError", err)
	}
	if rerr := <-errs; rerr == nil {
		t.Fatal("the receiver accepted a file whose digest differs")
	}
	if _, err := os.Stat(filepath.Join(dir, "data.bin")); !os.IsNotExist(err) {
		t.Fatal("a file with the wrong digest took the name")
	}
	if _, err := os.Stat(filepath.Join(dir, Corrupt("data.bin"))); err != nil {
		t.Fatalf("no %s: %v", Corrupt("data.bin"), err)
	}
}

// Names that would escape the directory are refused by the receiver,
// whatever a sender offers.
func TestReceiverRefusesEscapingNames(t *testing.T) {
	addr, dir, errs := receiver(t, true)
	outside := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(outside, []byte("keep"), 0o600)
	os.Symlink(outside, filepath.Join(dir, "link"))
	for _, name := range []string{"../escape", "/etc/passwd", "a/b", "..", "link"} {
		c, err := rudp.Dial(context.Background(), "udp", addr, rudp.Config{})
		if err != nil {
			t.Fatal(err)
		}
		json.NewEncoder(c).Encode(Offer{Name: name, Size: 4, SHA256: hex.EncodeToString(sha([]byte("evil")))})
		c.Write([]byte("evil"))
		c.CloseWrite()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 1000)
		n, _ := c.Read(buf)
		c.Close()
		if !bytes.Contains(buf[:n], []byte(`"error"`)) {
			t.Errorf("%q: the receiver answered %q", name, buf[:n])
		}
		if err := <-errs; err == nil {
			t.Errorf("%q was accepted", name)
		}
	}
	if b, _ := os.ReadFile(outside); string(b) != "keep" {
		t.Fatalf("the file outside was written: %q", b)
	}
	if err := CheckName("../x"); err == nil {
		t.Fatal("CheckName took ../x")
	}
}
