// Package transfer moves files over rudp, as netkit send and receive do:
// the name, size and SHA-256 go first, the bytes follow, and the
// receiver checks the digest before the file takes its name. An
// interrupted transfer resumes where it stopped.
//
// The dialogue, on one rudp connection:
//
//	sender:   {"name":"f.bin","size":1048576,"sha256":"…"}\n
//	receiver: {"offset":0}\n            (or {"error":"…"}\n and the end)
//	sender:   the bytes from offset to size, then the end of its stream
//	receiver: {"sha256":"…"}\n          (or {"error":"…"}\n)
package transfer

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/netkit-dev/netkit/rudp"
)

// Offer is what the sender says of the file first.
type Offer struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

type reply struct {
	Offset *int64 `json:"offset,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Result describes one transfer; it is what netkit send and receive
// --json print.
type Result struct {
	Name          string  `json:"name"`
	Peer          string  `json:"peer"`
	Size          int64   `json:"size"`
	Bytes         int64   `json:"bytes"`   // moved this time
	Resumed       int64   `json:"resumed"` // already there from an earlier try
	SHA256        string  `json:"sha256"`
	Seconds       float64 `json:"seconds"`
	GoodputMbps   float64 `json:"goodput_mbps"`
	PacketsSent   uint64  `json:"packets_sent"`
	Retransmitted uint64  `json:"retransmitted"`
	Timeouts      uint64  `json:"timeouts"`
	Corrupted     uint64  `json:"corrupted_dropped"`
	KernelDrops   uint64  `json:"kernel_drops"`
	FECSent       uint64  `json:"fec_sent"`       // parity packets sent
	FECRecovered  uint64  `json:"fec_recovered"`  // packets rebuilt from parity received
	Path          string  `json:"path,omitempty"` // where the receiver put it
}

// RemoteError is a refusal or failure that the other side reported.
type RemoteError struct{ Msg string }

func (e *RemoteError) Error() string { return "the receiver says: " + e.Msg }

// NameError is a file name that would land outside the target directory
// or that cannot be a file name.
type NameError struct{ Name, Rule string }

func (e *NameError) Error() string { return fmt.Sprintf("file name %q: %s", e.Name, e.Rule) }

// CheckName accepts a plain file name: no directories, no "..", no
// absolute path, nothing a receiver could be tricked into writing
// elsewhere.
func CheckName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return &NameError{name, "not a file name"}
	case strings.ContainsAny(name, "/\\\x00"):
		return &NameError{name, "a name may not hold a directory (/ or \\)"}
	case len(name) > 255:
		return &NameError{name, "longer than 255 bytes"}
	}
	return nil
}

// SendOptions tune Send.
type SendOptions struct {
	Config rudp.Config
	// Name is the name offered; the file's base name if empty.
	Name string
	// Progress, if set, is told of each chunk sent, with the offset
	// reached and the total.
	Progress func(done, total int64)
}

// Send offers the file at path to the receiver at addr and sends it.
func Send(ctx context.Context, addr, path string, o SendOptions) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	offer := Offer{Name: o.Name, Size: fi.Size(), SHA256: hex.EncodeToString(h.Sum(nil))}
	if offer.Name == "" {
		offer.Name = filepath.Base(path)
	}
	if err := CheckName(offer.Name); err != nil {
		return nil, err
	}
	c, err := rudp.Dial(ctx, "udp", addr, o.Config)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	start := time.Now()
	res := &Result{Name: offer.Name, Peer: c.RemoteAddr().String(), Size: offer.Size, SHA256: offer.SHA256}
	if err := json.NewEncoder(c).Encode(offer); err != nil {
		return res, err
	}
	br := bufio.NewReader(c)
	r, err := readReply(br)
	if err != nil {
		return res, err
	}
	if r.Offset == nil || *r.Offset < 0 || *r.Offset > offer.Size {
		return res, errors.New("the receiver answered the offer without a valid offset")
	}
	res.Resumed = *r.Offset
	if _, err := f.Seek(res.Resumed, io.SeekStart); err != nil {
		return res, err
	}
	buf := make([]byte, 256<<10)
	done := res.Resumed
	for done < offer.Size {
		n, err := f.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return res, werr
			}
			done += int64(n)
			res.Bytes += int64(n)
			if o.Progress != nil {
				o.Progress(done, offer.Size)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return res, err
		}
	}
	if done != offer.Size {
		return res, fmt.Errorf("%s changed while it was sent: %d bytes, not %d", path, done, offer.Size)
	}
	if err := c.CloseWrite(); err != nil {
		return res, err
	}
	r, err = readReply(br)
	fill(res, c, start)
	if err != nil {
		return res, err
	}
	if r.SHA256 != offer.SHA256 {
		return res, fmt.Errorf("the receiver computed SHA-256 %s, not %s", r.SHA256, offer.SHA256)
	}
	closeAndWait(ctx, c)
	return res, nil
}

func fill(res *Result, c *rudp.Conn, start time.Time) {
	st := c.Stats()
	res.Seconds = time.Since(start).Seconds()
	if res.Seconds > 0 {
		res.GoodputMbps = float64(res.Bytes) * 8 / res.Seconds / 1e6
	}
	res.PacketsSent, res.Retransmitted, res.Timeouts, res.Corrupted = st.Sent, st.Retransmitted, st.Timeouts, st.Corrupted
	res.KernelDrops, res.FECSent, res.FECRecovered = st.KernelDrops, st.FECSent, st.FECRecovered
}

func readReply(br *bufio.Reader) (reply, error) {
	line, err := br.ReadBytes('\n')
	if err != nil {
		if errors.Is(err, io.EOF) {
			return reply{}, errors.New("the receiver hung up without an answer")
		}
		return reply{}, err
	}
	var r reply
	if err := json.Unmarshal(line, &r); err != nil {
		return reply{}, fmt.Errorf("the receiver's answer is not JSON: %w", err)
	}
	if r.Error != "" {
		return r, &RemoteError{r.Error}
	}
	return r, nil
}

// Receiver takes files into a directory.
type Receiver struct {
	// Dir is where files go, made if missing; names cannot leave it
	// (os.Root).
	Dir string
	// Force replaces files that exist; otherwise they are refused.
	Force bool
	// Started and Done, if set, are told of each transfer.
	Started func(Offer, net.Addr)
	Done    func(*Result, error)
}

// Partial is the name an unfinished transfer's bytes are kept under, so
// that a new try of the same file resumes: the digest in the name ties
// it to that content. A file that arrives with the wrong digest is kept
// as Corrupt.
func Partial(o Offer) string { return "." + o.Name + "." + o.SHA256[:16] + ".part" }

// Corrupt is the name a file whose digest did not match is kept under.
func Corrupt(name string) string { return name + ".netkit-corrupt" }

// Serve takes transfers from l until ctx ends; with keep false, after
// the first one, whose error it returns.
func (r *Receiver) Serve(ctx context.Context, l *rudp.Listener, keep bool) error {
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(r.Dir)
	if err != nil {
		return err
	}
	defer root.Close()
	var wg sync.WaitGroup
	defer wg.Wait() // every transfer has told Done before Serve returns
	for {
		c, err := l.AcceptRUDP(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if !keep {
			_, err := r.receive(ctx, root, c)
			return err
		}
		wg.Go(func() { r.receive(ctx, root, c) })
	}
}

func (r *Receiver) receive(ctx context.Context, root *os.Root, c *rudp.Conn) (*Result, error) {
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	start := time.Now()
	res := &Result{Peer: c.RemoteAddr().String()}
	var err error
	defer func() {
		if r.Done != nil {
			r.Done(res, err)
		}
	}()
	refuse := func(e error) error {
		json.NewEncoder(c).Encode(reply{Error: e.Error()})
		closeAndWait(ctx, c)
		return e
	}
	br := bufio.NewReader(io.LimitReader(c, 1<<20))
	line, err := br.ReadBytes('\n')
	if err != nil {
		return res, err
	}
	var o Offer
	if err = json.Unmarshal(line, &o); err != nil {
		err = refuse(fmt.Errorf("the offer is not JSON: %w", err))
		return res, err
	}
	res.Name, res.Size, res.SHA256 = o.Name, o.Size, o.SHA256
	if err = CheckName(o.Name); err != nil {
		err = refuse(err)
		return res, err
	}
	if _, herr := hex.DecodeString(o.SHA256); herr != nil || len(o.SHA256) != 64 || o.Size < 0 {
		err = refuse(errors.New("the offer needs a size and a SHA-256 in hex"))
		return res, err
	}
	if r.Started != nil {
		r.Started(o, c.RemoteAddr())
	}
	if fi, lerr := root.Lstat(o.Name); lerr == nil {
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			err = refuse(&NameError{o.Name, "it is a symbolic link in the target directory"})
			return res, err
		case !r.Force:
			err = refuse(fmt.Errorf("%s exists (the receiver has no --force)", o.Name))
			return res, err
		}
	}
	part := Partial(o)
	f, err := root.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		err = refuse(err)
		return res, err
	}
	defer f.Close()
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil || have > o.Size {
		f.Truncate(0)
		have, _ = f.Seek(0, io.SeekStart)
	}
	res.Resumed = have
	if err = json.NewEncoder(c).Encode(reply{Offset: &have}); err != nil {
		return res, err
	}
	// The rest of the stream is the file's bytes: what the offer's
	// reader has buffered first, then the connection.
	body := io.MultiReader(br, c)
	n, err := io.Copy(f, io.LimitReader(struct{ io.Reader }{body}, o.Size-have+1))
	res.Bytes = n
	fill(res, c, start)
	if err != nil {
		return res, err // the partial file stays for a resume
	}
	if have+n != o.Size {
		if have+n > o.Size {
			err = refuse(fmt.Errorf("more than the %d bytes offered", o.Size))
		} else {
			err = fmt.Errorf("the sender stopped after %d of %d bytes; %s is kept for a resume", have+n, o.Size, part)
		}
		return res, err
	}
	h := sha256.New()
	if _, err = f.Seek(0, io.SeekStart); err == nil {
		_, err = io.Copy(h, f)
	}
	if err != nil {
		return res, err
	}
	got := hex.EncodeToString(h.Sum(nil))
	if got != o.SHA256 {
		root.Rename(part, Corrupt(o.Name))
		err = refuse(fmt.Errorf("SHA-256 mismatch: got %s, offered %s; kept as %s", got, o.SHA256, Corrupt(o.Name)))
		return res, err
	}
	if err = f.Sync(); err == nil {
		err = root.Rename(part, o.Name)
	}
	if err != nil {
		refuse(err)
		return res, err
	}
	res.Path = filepath.Join(r.Dir, o.Name)
	json.NewEncoder(c).Encode(reply{SHA256: got})
	closeAndWait(ctx, c)
	return res, nil
}

// closeAndWait closes c and waits, a while at most, until what was
// written has been acknowledged: a program that exits right after a
// transfer must not take its last answer with it.
func closeAndWait(ctx context.Context, c *rudp.Conn) {
	c.Close()
	select {
	case <-c.Done():
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
	}
}
