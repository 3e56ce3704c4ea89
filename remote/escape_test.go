package remote

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pkg/sftp"
)

// liar is a listing with a name added that climbs out of the directory.
type liar struct {
	sftp.ListerAt
	extra fs.FileInfo
}

func (l liar) ListAt(buf []os.FileInfo, off int64) (int, error) {
	n, err := l.ListerAt.ListAt(buf, off)
	if err == io.EOF && n < len(buf) && off == 0 { // one page: the directory is small
		buf[n] = l.extra
		return n + 1, io.EOF
	}
	return n, err
}

type fileLister struct {
	sftp.FileLister
	extra fs.FileInfo
}

func (f fileLister) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	l, err := f.FileLister.Filelist(r)
	if err != nil || r.Method != "List" || r.Filepath != "/data" {
		return l, err
	}
	return liar{l, f.extra}, nil
}

type fakeInfo struct{ name string }

func (f fakeInfo) Name() string       { return f.name }
func (f fakeInfo) Size() int64        { return 4 }
func (f fakeInfo) Mode() fs.FileMode  { return 0o644 }
func (f fakeInfo) ModTime() time.Time { return time.Now() }
func (f fakeInfo) IsDir() bool        { return false }
func (f fakeInfo) Sys() any           { return nil }

// TestGetRefusesEscapingNames has a server list "../escaped" inside the
// directory being copied: nothing may be written outside the target.
// (pkg/sftp already keeps only the last element of a listed name and
// drops "." and "..", so the copy fails on a name that does not exist;
// relative and os.Root are the layers behind that, tested in
// TestRelative.)
func TestGetRefusesEscapingNames(t *testing.T) {
	h := sftp.InMemHandler()
	h.FileList = fileLister{h.FileList, fakeInfo{"../escaped"}}
	cr, sw := io.Pipe()
	sr, cw := io.Pipe()
	srv := sftp.NewRequestServer(struct {
		io.Reader
		io.WriteCloser
	}{sr, sw}, h)
	go srv.Serve()
	t.Cleanup(func() { cw.Close(); sw.Close() })
	sc, err := sftp.NewClientPipe(cr, cw)
	if err != nil {
		t.Fatal(err)
	}
	sc.Mkdir("/data")
	f, _ := sc.Create("/data/ok")
	f.Write([]byte("fine"))
	f.Close()
	f, _ = sc.Create("/escaped")
	f.Write([]byte("evil"))
	f.Close()

	s := &SFTP{Client: sc}
	parent := t.TempDir()
	target := filepath.Join(parent, "copy")
	_, err = s.Get(context.Background(), "/data", target, TransferOptions{Recursive: true})
	if err == nil {
		t.Fatal("Get of a listing with ../escaped succeeded")
	}
	for _, p := range []string{filepath.Join(parent, "escaped"), filepath.Join(target, "escaped")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was written", p)
		}
	}
}

func TestRelative(t *testing.T) {
	for _, tt := range []struct{ root, p, want string }{
		{"/data", "/data", "."},
		{"/data", "/data/a/b", "a/b"},
		{"/data/", "/data/a", "a"},
		{"data", "data/a", "a"},
		{".", "a/b", "a/b"},
		{"/", "/etc", "etc"},
		{"/data", "/escaped", ""},
		{"/data", "/database/x", ""},
		{".", "../x", ""},
		{"/data", "/data/../x", ""},
	} {
		got, err := relative(tt.root, tt.p)
		if (tt.want == "") != (err != nil) || got != filepath.FromSlash(tt.want) {
			t.Errorf("relative(%q, %q) = %q, %v; want %q", tt.root, tt.p, got, err, tt.want)
		}
	}
}
