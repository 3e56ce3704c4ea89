package ftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// PartSuffix is added to a file's name while it is written; it takes
// its final name only when whole.
const PartSuffix = ".netkit-part"

// TransferOptions are the settings of [Conn.Get], [Conn.Put] and
// [Conn.Mirror].
type TransferOptions struct {
	// Segments is how many connections a get uses at once, each reading
	// its own range of the file, as lftp's pget -n. If zero or one, one.
	// Files under 1 MiB a segment use fewer.
	Segments int
	// Resume continues a partial copy (its .netkit-part file) instead of
	// starting again; a resumed get uses one connection.
	Resume bool
	// Progress, if set, is called as bytes move with the file and the
	// bytes done of its total (-1 when unknown). Calls do not overlap.
	Progress func(file string, done, total int64)
}

// Stats count what a transfer moved.
type Stats struct {
	Files    int   `json:"files"`
	Bytes    int64 `json:"bytes"`
	Resumed  int64 `json:"resumed"`
	Segments int   `json:"segments"`
	Skipped  int   `json:"skipped"`
	Dirs     int   `json:"dirs"`
}

// TransferError names the file a transfer failed on.
type TransferError struct {
	Op, Path string
	Err      error
}

func (e *TransferError) Error() string { return fmt.Sprintf("ftp: %s %s: %v", e.Op, e.Path, e.Err) }
func (e *TransferError) Unwrap() error { return e.Err }

// Get copies the remote file to local (a directory: under the remote
// name), through NAME.netkit-part.
func (c *Conn) Get(ctx context.Context, remote, local string, o TransferOptions) (Stats, error) {
	var st Stats
	if fi, err := os.Stat(local); err == nil && fi.IsDir() {
		local = filepath.Join(local, path.Base(remote))
	}
	dir, base := filepath.Split(local)
	if dir == "" {
		dir = "."
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return st, err
	}
	defer root.Close()
	size, err := c.Size(remote)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return st, &TransferError{"get", remote, err}
		}
		size = -1 // SIZE unsupported: read to the end
	}
	err = c.getFile(ctx, root, remote, base, size, o, &st, newProgress(o.Progress))
	return st, err
}

type progress struct {
	mu sync.Mutex
	fn func(string, int64, int64)
}

func newProgress(fn func(string, int64, int64)) *progress { return &progress{fn: fn} }

func (p *progress) report(name string, done, total int64) {
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	p.fn(name, done, total)
	p.mu.Unlock()
}

// counter counts bytes written through it into a shared total.
type counter struct {
	w     io.Writer
	mu    *sync.Mutex
	done  *int64
	name  string
	total int64
	p     *progress
}

func (c *counter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.mu.Lock()
	*c.done += int64(n)
	d := *c.done
	c.mu.Unlock()
	c.p.report(c.name, d, c.total)
	return n, err
}

const minSegment = 1 << 20

func (c *Conn) getFile(ctx context.Context, root *os.Root, remote, name string, size int64, o TransferOptions, st *Stats, p *progress) error {
	part := name + PartSuffix
	var offset int64
	if o.Resume {
		if fi, err := root.Stat(part); err == nil && (size < 0 || fi.Size() <= size) {
			offset = fi.Size()
		}
	}
	segs := max(o.Segments, 1)
	if size < 0 || offset > 0 {
		segs = 1
	}
	if n := int(size / minSegment); segs > n {
		segs = max(n, 1)
	}
	flags := os.O_WRONLY | os.O_CREATE
	if offset == 0 {
		flags |= os.O_TRUNC
	}
	f, err := root.OpenFile(part, flags, 0o644)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	done := offset
	add := func(k int64) {
		mu.Lock()
		done += k
		d := done
		mu.Unlock()
		p.report(remote, d, size)
	}
	var got int64
	if segs == 1 {
		if _, err = f.Seek(offset, io.SeekStart); err == nil {
			got, err = c.readRange(ctx, remote, offset, -1, f, add)
		}
	} else {
		open := func() (*os.File, error) { return root.OpenFile(part, os.O_WRONLY, 0) }
		got, err = c.segmented(ctx, remote, f, open, size, segs, add)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	st.Bytes += got
	if err == nil && size >= 0 && offset+got != size {
		err = fmt.Errorf("got %d bytes of %d", offset+got, size)
	}
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return &TransferError{"get", remote, err}
	}
	if err := root.Rename(part, name); err != nil {
		return err
	}
	st.Files++
	st.Resumed += offset
	st.Segments += segs
	return nil
}

// readRange reads the remote file from offset, n bytes (-1: to the end),
// into dst at its current position, calling add as bytes arrive. From a
// plain TCP data connection the bytes move with splice(2), never
// through user space. A range that stops before the end abandons the
// connection, which then cannot be used again.
func (c *Conn) readRange(ctx context.Context, remote string, offset, n int64, dst *os.File, add func(int64)) (int64, error) {
	r, err := c.Retr(ctx, remote, offset)
	if err != nil {
		return 0, err
	}
	d := r.(*dataConn)
	// Plain reads and writes through a large buffer: splice(2) from the
	// socket into the file cost 3.5x the system time here (the pipe to a
	// file copies anyway, in 64 KiB steps).
	buf := make([]byte, 1<<20)
	const step = 4 << 20 // progress is reported this often
	var got int64
	for n < 0 || got < n {
		want := int64(step)
		if n >= 0 {
			want = min(want, n-got)
		}
		k, err := io.CopyBuffer(struct{ io.Writer }{dst}, io.LimitReader(d.Conn, want), buf)
		got += k
		add(k)
		if err != nil {
			d.Close()
			return got, err
		}
		if k < want {
			break // the end of the file
		}
	}
	if n < 0 {
		return got, d.Close()
	}
	d.Conn.Close()
	c.conn.Close()
	return got, nil
}

// segmented reads the file in segs ranges at once, each into its own
// handle on the part file: the last on this connection, each of the
// others on one of its own.
func (c *Conn) segmented(ctx context.Context, remote string, f *os.File, open func() (*os.File, error), size int64, segs int, add func(int64)) (int64, error) {
	if err := f.Truncate(size); err != nil {
		return 0, err
	}
	if !strings.HasPrefix(remote, "/") {
		// The other connections start in the login directory.
		wd, err := c.Pwd()
		if err != nil {
			return 0, err
		}
		remote = path.Join(wd, remote)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunk := size / int64(segs)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var total int64
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	for i := range segs {
		start, n := int64(i)*chunk, chunk
		if i == segs-1 {
			n = size - start
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn := c
			limit := int64(-1) // the last reads to the end, and keeps the connection
			if i < segs-1 {
				var err error
				if conn, err = Dial(ctx, c.addr, c.o); err != nil {
					fail(err)
					return
				}
				defer conn.Close()
				limit = n
			}
			out, err := open()
			if err == nil {
				_, err = out.Seek(start, io.SeekStart)
			}
			if err != nil {
				fail(err)
				return
			}
			got, err := conn.readRange(ctx, remote, start, limit, out, add)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			mu.Lock()
			total += got
			mu.Unlock()
			if err == nil && got != n {
				err = fmt.Errorf("segment at %d: %d bytes of %d", start, got, n)
			}
			if err != nil {
				fail(err)
			}
		}()
	}
	wg.Wait()
	return total, firstErr
}

// Put copies the local file to remote (an existing directory: under the
// local name), through NAME.netkit-part renamed when whole.
func (c *Conn) Put(ctx context.Context, local, remote string, o TransferOptions) (Stats, error) {
	var st Stats
	fi, err := os.Stat(local)
	if err != nil {
		return st, err
	}
	if fi.IsDir() {
		return st, &TransferError{"put", local, errors.New("is a directory (use mirror --reverse)")}
	}
	if c.isDir(ctx, remote) {
		remote = path.Join(remote, filepath.Base(local))
	}
	return st, c.putFile(ctx, local, remote, fi.Size(), o, &st, newProgress(o.Progress))
}

// isDir reports whether the remote path is a directory, by changing into
// it and back.
func (c *Conn) isDir(ctx context.Context, p string) bool {
	wd, err := c.Pwd()
	if err != nil {
		return false
	}
	if c.Cwd(p) != nil {
		return false
	}
	c.Cwd(wd)
	return true
}

func (c *Conn) putFile(ctx context.Context, local, remote string, size int64, o TransferOptions, st *Stats, p *progress) error {
	in, err := os.Open(local)
	if err != nil {
		return err
	}
	defer in.Close()
	part := remote + PartSuffix
	var offset int64
	if o.Resume {
		if n, err := c.Size(part); err == nil && n <= size {
			offset = n
		}
	}
	if _, err := in.Seek(offset, io.SeekStart); err != nil {
		return err
	}
	var mu sync.Mutex
	done := offset
	r := io.TeeReader(in, &counter{w: io.Discard, mu: &mu, done: &done, name: local, total: size, p: p})
	n, err := c.Stor(ctx, part, r, offset)
	st.Bytes += n
	if err != nil {
		return &TransferError{"put", remote, err}
	}
	if offset+n != size {
		return &TransferError{"put", remote, fmt.Errorf("sent %d bytes of %d (the file changed while it was sent?)", offset+n, size)}
	}
	if err := c.Rename(part, remote); err != nil {
		// Some servers refuse to rename over an existing file.
		c.Delete(remote)
		if err := c.Rename(part, remote); err != nil {
			return &TransferError{"rename", part, err}
		}
	}
	st.Files++
	st.Resumed += offset
	return nil
}

// Action is one step of a mirror: what was (or, in a dry run, would be)
// done to one path, and why.
type Action struct {
	Op     string `json:"op"` // "mkdir", "get", "put" or "skip"
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	Reason string `json:"reason"`
}

// MirrorOptions are the settings of [Conn.Mirror].
type MirrorOptions struct {
	TransferOptions
	// Reverse uploads the local tree to the server instead.
	Reverse bool
	// DryRun decides every action and does none.
	DryRun bool
}

// Mirror makes local a copy of the remote directory (or, with Reverse,
// the remote directory a copy of local): files missing on the receiving
// side, of another size, or older there are copied, the rest skipped.
// Nothing is deleted. Downloaded files take the remote modification time,
// so that the next mirror skips them. each is called with every action.
func (c *Conn) Mirror(ctx context.Context, remoteDir, localDir string, o MirrorOptions, each func(Action)) (Stats, error) {
	var st Stats
	p := newProgress(o.Progress)
	if o.Reverse {
		return st, c.mirrorUp(ctx, remoteDir, localDir, o, each, &st, p)
	}
	if !o.DryRun {
		if err := os.MkdirAll(localDir, 0o755); err != nil {
			return st, err
		}
	}
	root, err := os.OpenRoot(localDir)
	if err != nil && !o.DryRun {
		return st, err
	}
	if root != nil {
		defer root.Close()
	}
	err = c.Walk(ctx, remoteDir, func(e Entry) error {
		rel, err := filepath.Rel(remoteDir, e.Path)
		if err != nil || !filepath.IsLocal(rel) {
			return fmt.Errorf("ftp: %q is outside %q", e.Path, remoteDir)
		}
		switch e.Type {
		case Dir:
			var fi fs.FileInfo
			if root != nil {
				fi, _ = root.Stat(rel)
			}
			if fi != nil && fi.IsDir() {
				return nil
			}
			each(Action{"mkdir", rel, 0, "missing here"})
			st.Dirs++
			if o.DryRun {
				return nil
			}
			return root.Mkdir(rel, 0o755)
		case File:
			var fi fs.FileInfo
			if root != nil {
				fi, _ = root.Stat(rel)
			}
			reason := newer(e.Size, e.ModTime, fi)
			if reason == "" {
				st.Skipped++
				each(Action{"skip", rel, e.Size, "same size, not newer"})
				return nil
			}
			each(Action{"get", rel, e.Size, reason})
			if o.DryRun {
				return nil
			}
			if err := c.getFile(ctx, root, e.Path, rel, e.Size, o.TransferOptions, &st, p); err != nil {
				return err
			}
			if !e.ModTime.IsZero() {
				root.Chtimes(rel, e.ModTime, e.ModTime)
			}
		}
		return nil
	})
	return st, err
}

// newer says why the sending side's file should be copied over the
// receiving side's (nil when missing), or "" when it need not be.
func newer(size int64, mtime time.Time, have fs.FileInfo) string {
	switch {
	case have == nil:
		return "missing"
	case have.Size() != size:
		return fmt.Sprintf("size %d, not %d", have.Size(), size)
	case !mtime.IsZero() && mtime.After(have.ModTime().Add(time.Minute)):
		// LIST times are to the minute: a minute's slack.
		return "newer"
	}
	return ""
}

func (c *Conn) mirrorUp(ctx context.Context, remoteDir, localDir string, o MirrorOptions, each func(Action), st *Stats, p *progress) error {
	have := map[string]Entry{}
	if err := c.Walk(ctx, remoteDir, func(e Entry) error { have[e.Path] = e; return nil }); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if _, err := c.List(ctx, remoteDir); errors.Is(err, ErrNotFound) {
		each(Action{"mkdir", ".", 0, "missing there"})
		if !o.DryRun {
			if err := c.Mkdir(remoteDir); err != nil {
				return err
			}
		}
	}
	return filepath.WalkDir(localDir, func(p0 string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(localDir, p0)
		if err != nil || rel == "." {
			return err
		}
		dst := path.Join(remoteDir, filepath.ToSlash(rel))
		e, ok := have[dst]
		switch {
		case d.IsDir():
			if ok && e.Type == Dir {
				return nil
			}
			each(Action{"mkdir", rel, 0, "missing there"})
			st.Dirs++
			if o.DryRun {
				return nil
			}
			return c.Mkdir(dst)
		case d.Type().IsRegular():
			fi, err := d.Info()
			if err != nil {
				return err
			}
			reason := "missing"
			if ok {
				reason = newer(fi.Size(), fi.ModTime(), remoteInfo{e})
			}
			if reason == "" {
				st.Skipped++
				each(Action{"skip", rel, fi.Size(), "same size, not newer"})
				return nil
			}
			each(Action{"put", rel, fi.Size(), reason})
			if o.DryRun {
				return nil
			}
			return c.putFile(ctx, p0, dst, fi.Size(), o.TransferOptions, st, p)
		}
		return nil
	})
}

// remoteInfo presents a listing's entry as a FileInfo for newer.
type remoteInfo struct{ e Entry }

func (r remoteInfo) Name() string       { return r.e.Name }
func (r remoteInfo) Size() int64        { return r.e.Size }
func (r remoteInfo) Mode() fs.FileMode  { return 0o644 }
func (r remoteInfo) ModTime() time.Time { return r.e.ModTime }
func (r remoteInfo) IsDir() bool        { return r.e.Type == Dir }
func (r remoteInfo) Sys() any           { return nil }
