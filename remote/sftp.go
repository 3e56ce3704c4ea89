package remote

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
	"time"

	"github.com/pkg/sftp"
)

// PartSuffix is added to a file's name while it is being written; the
// file takes its final name only when it is whole.
const PartSuffix = ".netkit-part"

// SFTP is a file transfer session on a [Client].
type SFTP struct {
	*sftp.Client
	target Target
}

// SFTPOptions tune the file transfer session.
type SFTPOptions struct {
	// Requests is how many read or write requests are in flight per
	// file. If zero, 64: pkg/sftp without concurrent requests is about
	// 3x slower than scp.
	Requests int
	// PacketSize is the size of each read and write request (OpenSSH
	// sftp's -B). If zero, 32 KiB, which every server takes; OpenSSH's
	// sftp-server takes up to 255 KiB.
	PacketSize int
}

// SFTP starts the sftp subsystem, with concurrent reads and writes.
func (c *Client) SFTP(o SFTPOptions) (*SFTP, error) {
	n := o.Requests
	if n <= 0 {
		n = 64
	}
	opts := []sftp.ClientOption{
		sftp.UseConcurrentReads(true),
		sftp.UseConcurrentWrites(true),
		sftp.MaxConcurrentRequestsPerFile(n),
	}
	if o.PacketSize > 0 {
		opts = append(opts, sftp.MaxPacketUnchecked(o.PacketSize))
	}
	sc, err := sftp.NewClient(c.Client, opts...)
	if err != nil {
		return nil, fmt.Errorf("remote: %s: sftp: %w", c.Target, err)
	}
	return &SFTP{Client: sc, target: c.Target}, nil
}

// Entry is one file in a listing.
type Entry struct {
	Name    string      `json:"name"`
	Path    string      `json:"path"`
	Size    int64       `json:"size"`
	Mode    fs.FileMode `json:"-"`
	ModeStr string      `json:"mode"`
	Dir     bool        `json:"dir"`
	ModTime time.Time   `json:"mtime"`
	Link    string      `json:"link,omitempty"` // a symbolic link's target
}

func entryOf(dir string, fi fs.FileInfo) Entry {
	return Entry{Name: fi.Name(), Path: path.Join(dir, fi.Name()), Size: fi.Size(), Mode: fi.Mode(),
		ModeStr: fi.Mode().String(), Dir: fi.IsDir(), ModTime: fi.ModTime().UTC()}
}

// List lists a directory, or names one file, sorted by name as the
// server returns them.
func (s *SFTP) List(p string) ([]Entry, error) {
	fi, err := s.Lstat(p)
	if err != nil {
		return nil, s.opErr("ls", p, err)
	}
	if !fi.IsDir() {
		e := entryOf(path.Dir(p), fi)
		if fi.Mode()&fs.ModeSymlink != 0 {
			e.Link, _ = s.ReadLink(p)
		}
		return []Entry{e}, nil
	}
	fis, err := s.ReadDir(p)
	if err != nil {
		return nil, s.opErr("ls", p, err)
	}
	out := make([]Entry, 0, len(fis))
	for _, fi := range fis {
		e := entryOf(p, fi)
		if fi.Mode()&fs.ModeSymlink != 0 {
			e.Link, _ = s.ReadLink(e.Path)
		}
		out = append(out, e)
	}
	return out, nil
}

// Mkdir makes a directory; with parents, its missing parents too and no
// error if it exists (mkdir -p).
func (s *SFTP) Mkdir(p string, parents bool) error {
	var err error
	if parents {
		err = s.MkdirAll(p)
	} else {
		err = s.Client.Mkdir(p)
	}
	return s.opErr("mkdir", p, err)
}

// Remove removes a file or an empty directory; with recursive, a
// directory and everything in it.
func (s *SFTP) Remove(p string, recursive bool) error {
	var err error
	if recursive {
		err = s.RemoveAll(p)
	} else {
		err = s.Client.Remove(p)
	}
	return s.opErr("rm", p, err)
}

func (s *SFTP) opErr(op, p string, err error) error {
	if err == nil {
		return nil
	}
	return &TransferError{Op: op, Path: p, Err: err}
}

// TransferError is a failed file operation, naming the file.
type TransferError struct {
	Op   string
	Path string
	Err  error
}

func (e *TransferError) Error() string { return fmt.Sprintf("remote: %s %s: %v", e.Op, e.Path, e.Err) }
func (e *TransferError) Unwrap() error { return e.Err }

// ErrEscape means a name would be written outside the target directory.
var ErrEscape = errors.New("remote: name escapes the target directory")

// TransferOptions are the settings of [SFTP.Get] and [SFTP.Put].
type TransferOptions struct {
	// Recursive copies directories and everything under them.
	Recursive bool
	// Resume continues a partial copy (the .netkit-part file, or a
	// shorter file under the final name) instead of starting again.
	Resume bool
	// Progress, if set, is called as bytes arrive, with the file and the
	// bytes copied of it so far (its total is -1 when unknown).
	Progress func(file string, done, total int64)
}

// TransferStats count what was copied.
type TransferStats struct {
	Files   int   `json:"files"`
	Bytes   int64 `json:"bytes"`   // bytes moved by this run
	Resumed int64 `json:"resumed"` // bytes already there and kept
	Dirs    int   `json:"dirs"`
}

// Get copies the remote file or tree to local. When local is an existing
// directory the copy goes inside it under the remote name. Every file is
// written to NAME.netkit-part and renamed when whole; names from the
// server that would land outside local are refused.
func (s *SFTP) Get(ctx context.Context, remote, local string, o TransferOptions) (TransferStats, error) {
	var st TransferStats
	fi, err := s.Stat(remote)
	if err != nil {
		return st, s.opErr("get", remote, err)
	}
	if lfi, err := os.Stat(local); err == nil && lfi.IsDir() {
		local = filepath.Join(local, path.Base(remote))
	}
	if !fi.IsDir() {
		dir, base := filepath.Split(local)
		root, err := os.OpenRoot(orDot(dir))
		if err != nil {
			return st, err
		}
		defer root.Close()
		return st, s.getFile(ctx, root, remote, base, fi.Size(), o, &st)
	}
	if !o.Recursive {
		return st, &TransferError{"get", remote, errors.New("is a directory (use -r)")}
	}
	if err := os.MkdirAll(local, 0o755); err != nil {
		return st, err
	}
	root, err := os.OpenRoot(local)
	if err != nil {
		return st, err
	}
	defer root.Close()
	w := s.Walk(remote)
	for w.Step() {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if err := w.Err(); err != nil {
			return st, s.opErr("get", w.Path(), err)
		}
		rel, err := relative(remote, w.Path())
		if err != nil {
			return st, err
		}
		if rel == "." {
			continue
		}
		switch fi := w.Stat(); {
		case fi.IsDir():
			if err := root.Mkdir(rel, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return st, err
			}
			st.Dirs++
		case fi.Mode().IsRegular():
			if err := s.getFile(ctx, root, w.Path(), rel, fi.Size(), o, &st); err != nil {
				return st, err
			}
		}
	}
	return st, nil
}

// relative is p below root as a local relative path, refusing names
// that climb out of root (a server may send any name in a listing).
func relative(root, p string) (string, error) {
	root = path.Clean(root)
	if path.Clean(p) == root {
		return ".", nil
	}
	prefix := strings.TrimSuffix(root, "/") + "/"
	if root == "." {
		prefix = ""
	}
	rel, ok := strings.CutPrefix(p, prefix)
	if !ok || !filepath.IsLocal(rel) || strings.Contains(rel, "\\") {
		return "", fmt.Errorf("%w: %q is not inside %q", ErrEscape, p, root)
	}
	return filepath.FromSlash(rel), nil
}

func orDot(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}

func (s *SFTP) getFile(ctx context.Context, root *os.Root, remote, name string, size int64, o TransferOptions, st *TransferStats) error {
	if !filepath.IsLocal(name) {
		return fmt.Errorf("%w: %q", ErrEscape, name)
	}
	part := name + PartSuffix
	var offset int64
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if o.Resume {
		if fi, err := root.Stat(part); err == nil {
			offset = fi.Size()
		} else if fi, err := root.Stat(name); err == nil && fi.Mode().IsRegular() && fi.Size() < size {
			if err := root.Rename(name, part); err != nil {
				return err
			}
			offset = fi.Size()
		}
		if offset > size {
			offset = 0
		}
		if offset > 0 {
			flags = os.O_WRONLY
		}
	}
	f, err := s.Open(remote)
	if err != nil {
		return s.opErr("get", remote, err)
	}
	defer f.Close()
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer stop()
	out, err := root.OpenFile(part, flags, 0o644)
	if err != nil {
		return err
	}
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			out.Close()
			return s.opErr("get", remote, err)
		}
		if _, err := out.Seek(offset, io.SeekStart); err != nil {
			out.Close()
			return err
		}
	}
	var w io.Writer = out
	if o.Progress != nil {
		w = &progressWriter{w: out, name: remote, done: offset, total: size, fn: o.Progress}
	}
	n, err := f.WriteTo(w)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	st.Bytes += n
	if err == nil && offset+n != size {
		err = fmt.Errorf("got %d bytes of %d (the file changed while it was copied?)", offset+n, size)
	}
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return s.opErr("get", remote, err)
	}
	if err := root.Rename(part, name); err != nil {
		return err
	}
	st.Files++
	st.Resumed += offset
	return nil
}

// Put copies the local file or tree to remote. When remote is an
// existing directory the copy goes inside it under the local name. Every
// file is written to NAME.netkit-part on the server and renamed when
// whole.
func (s *SFTP) Put(ctx context.Context, local, remote string, o TransferOptions) (TransferStats, error) {
	var st TransferStats
	fi, err := os.Stat(local)
	if err != nil {
		return st, err
	}
	if rfi, err := s.Stat(remote); err == nil && rfi.IsDir() {
		remote = path.Join(remote, filepath.Base(local))
	}
	if !fi.IsDir() {
		return st, s.putFile(ctx, local, remote, fi.Size(), o, &st)
	}
	if !o.Recursive {
		return st, &TransferError{"put", local, errors.New("is a directory (use -r)")}
	}
	err = filepath.WalkDir(local, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(local, p)
		if err != nil {
			return err
		}
		dst := path.Join(remote, filepath.ToSlash(rel))
		switch {
		case d.IsDir():
			if err := s.MkdirAll(dst); err != nil {
				return s.opErr("mkdir", dst, err)
			}
			st.Dirs++
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			return s.putFile(ctx, p, dst, info.Size(), o, &st)
		}
		return nil
	})
	return st, err
}

func (s *SFTP) putFile(ctx context.Context, local, remote string, size int64, o TransferOptions, st *TransferStats) error {
	in, err := os.Open(local)
	if err != nil {
		return err
	}
	defer in.Close()
	part := remote + PartSuffix
	var offset int64
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if o.Resume {
		if fi, err := s.Stat(part); err == nil && fi.Size() <= size {
			offset = fi.Size()
			flags = os.O_WRONLY
		}
	}
	f, err := s.OpenFile(part, flags)
	if err != nil {
		return s.opErr("put", part, err)
	}
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer stop()
	if offset > 0 {
		if _, err := in.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			return err
		}
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			return s.opErr("put", part, err)
		}
	}
	var r io.Reader = in
	if o.Progress != nil {
		r = &progressReader{r: in, name: local, done: offset, total: size, fn: o.Progress}
	}
	n, err := f.ReadFromWithConcurrency(r, 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	st.Bytes += n
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return s.opErr("put", remote, err)
	}
	if err := s.PosixRename(part, remote); err != nil {
		// Servers without the posix-rename extension refuse to rename
		// over an existing file.
		s.Client.Remove(remote)
		if err := s.Rename(part, remote); err != nil {
			return s.opErr("rename", part, err)
		}
	}
	st.Files++
	st.Resumed += offset
	return nil
}

type progressWriter struct {
	w           io.Writer
	name        string
	done, total int64
	fn          func(string, int64, int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	p.fn(p.name, p.done, p.total)
	return n, err
}

type progressReader struct {
	r           io.Reader
	name        string
	done, total int64
	fn          func(string, int64, int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	p.fn(p.name, p.done, p.total)
	return n, err
}

// ParseRemotePath splits scp's HOST:PATH form ([user@]host:path, with an
// IPv6 address in brackets) into the destination and the path; an empty
// path is the login directory.
func ParseRemotePath(s string) (dest, p string, err error) {
	rest := s
	if i := strings.LastIndex(rest[:strings.IndexByte(rest+":", ':')], "@"); i >= 0 {
		rest = rest[i+1:]
	}
	off := len(s) - len(rest)
	colon := strings.IndexByte(rest, ':')
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 || len(rest) == end+1 || rest[end+1] != ':' {
			return "", "", fmt.Errorf("remote: %q: not [user@]host:path ([IPv6]:path)", s)
		}
		colon = end + 1
	}
	if colon <= 0 {
		return "", "", fmt.Errorf("remote: %q: not [user@]host:path (the colon is missing)", s)
	}
	dest, p = s[:off+colon], s[off+colon+1:]
	dest = strings.Replace(dest, "[", "", 1)
	dest = strings.Replace(dest, "]", "", 1)
	if _, _, _, err := ParseDestination(dest); err != nil {
		return "", "", err
	}
	if p == "" {
		p = "."
	}
	return dest, p, nil
}
