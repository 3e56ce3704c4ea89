package ftp_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net/textproto"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/ftp"
	"github.com/netkit-dev/netkit/internal/testutil"
)

// peer is an FTP server to test the client against.
type peer struct {
	name string
	addr string
	dir  string // the directory it serves, as this process sees it
	opts ftp.Options
	mlsd bool // offers MLSD
	cwd  string
}

func ourServer(t *testing.T, tlsOn bool) peer {
	t.Helper()
	dir := t.TempDir()
	ln := testutil.Listen(t, "tcp")
	srv := &ftp.Server{Root: dir, Writable: true}
	p := peer{name: "netkit", addr: ln.Addr().String(), dir: dir, mlsd: true}
	if tlsOn {
		cert, pool := testutil.SelfSigned(t)
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		p.opts = ftp.Options{Security: ftp.Explicit, TLS: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}
		p.name = "netkit-ftpes"
	}
	testutil.Serve(t, func(ctx context.Context) error { return srv.Serve(ctx, ln) })
	return p
}

// servers lists the servers to test against, each started by the
// subtest that uses it (and skipped there when missing).
func servers() []func(t *testing.T) peer {
	insecure := &tls.Config{InsecureSkipVerify: true}
	vsftpd := func(o testutil.VsftpdOptions, name string, sec ftp.Security) func(t *testing.T) peer {
		return func(t *testing.T) peer {
			s := testutil.StartVsftpd(t, o)
			return peer{name: name, addr: s.Addr, dir: s.Dir, cwd: s.Cwd, opts: ftp.Options{Security: sec, TLS: insecure}}
		}
	}
	pyftpdlib := func(tlsOn bool) func(t *testing.T) peer {
		return func(t *testing.T) peer {
			s := testutil.StartPyftpdlib(t, testutil.PyftpdlibOptions{TLS: tlsOn})
			p := peer{name: "pyftpdlib", addr: s.Addr, dir: s.Dir, mlsd: true}
			if tlsOn {
				p.opts = ftp.Options{Security: ftp.Explicit, TLS: insecure}
			}
			return p
		}
	}
	return []func(t *testing.T) peer{
		func(t *testing.T) peer { return ourServer(t, false) },
		func(t *testing.T) peer { return ourServer(t, true) },
		vsftpd(testutil.VsftpdOptions{}, "vsftpd", ftp.Plain),
		vsftpd(testutil.VsftpdOptions{TLS: true}, "vsftpd-ftpes", ftp.Explicit),
		vsftpd(testutil.VsftpdOptions{Implicit: true}, "vsftpd-ftps", ftp.Implicit),
		pyftpdlib(false),
		pyftpdlib(true),
	}
}

var serverNames = []string{"netkit", "netkit-ftpes", "vsftpd", "vsftpd-ftpes", "vsftpd-ftps", "pyftpdlib", "pyftpdlib-ftpes"}

func TestClientAgainstServers(t *testing.T) {
	data := make([]byte, 3<<20+123)
	rand.Read(data)
	ctx := context.Background()
	for i, start := range servers() {
		for _, mode := range []string{"epsv", "pasv", "active"} {
			t.Run(serverNames[i]+"/"+mode, func(t *testing.T) {
				p := start(t)
				o := p.opts
				o.Timeout = 10 * time.Second
				o.DisableEPSV = mode == "pasv"
				o.Active = mode == "active"
				var wire bytes.Buffer
				o.Wire = func(dir, line string) { fmt.Fprintf(&wire, "%s: %s\n", dir, line) }
				c, err := ftp.Dial(ctx, p.addr, o)
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				defer c.Quit()
				if p.cwd != "" {
					if err := c.Cwd(p.cwd); err != nil {
						t.Fatal(err)
					}
				}
				defer func() {
					if t.Failed() {
						t.Logf("dialogue:\n%s", wire.String())
					}
				}()
				local := t.TempDir()
				src := filepath.Join(local, "data.bin")
				os.WriteFile(src, data, 0o644)
				if _, err := c.Put(ctx, src, "up-"+mode+".bin", ftp.TransferOptions{}); err != nil {
					t.Fatalf("Put: %v", err)
				}
				if got, _ := os.ReadFile(filepath.Join(p.dir, "up-"+mode+".bin")); !bytes.Equal(got, data) {
					t.Fatalf("the server's copy: %d bytes, want the %d sent", len(got), len(data))
				}
				if err := c.Mkdir("d-" + mode); err != nil {
					t.Fatalf("Mkdir: %v", err)
				}
				list, err := c.List(ctx, "")
				if err != nil {
					t.Fatalf("List: %v", err)
				}
				var found bool
				for _, e := range list {
					if e.Name == "up-"+mode+".bin" {
						found = e.Type == ftp.File && e.Size == int64(len(data)) && !e.ModTime.IsZero()
					}
				}
				if !found {
					t.Errorf("List: %+v lacks the file with its size and time", list)
				}
				if strings.Contains(wire.String(), "C: MLSD") != p.mlsd {
					t.Errorf("MLSD used: %v, offered: %v", strings.Contains(wire.String(), "C: MLSD"), p.mlsd)
				}
				for _, segs := range []int{1, 3} {
					if segs > 1 && mode == "active" && strings.HasPrefix(p.name, "pyftpdlib") {
						// pyftpdlib 1.5.7 now and then never reads the first
						// command of a control connection opened while an
						// active-mode transfer to the same client runs: its
						// debug log shows the greeting sent and no USER
						// received (seen under load, with and without
						// splice on our side). Segments in active mode are
						// tested against vsftpd and our server.
						break
					}
					dst := filepath.Join(local, fmt.Sprintf("back%d.bin", segs))
					st, err := c.Get(ctx, "up-"+mode+".bin", dst, ftp.TransferOptions{Segments: segs})
					if err != nil {
						t.Fatalf("Get with %d segments: %v", segs, err)
					}
					if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) || st.Segments != segs {
						t.Fatalf("Get with %d segments: %d bytes in %d segments", segs, len(got), st.Segments)
					}
					if segs == 3 {
						break // the connection of the last segment is the one kept
					}
				}
				if _, err := c.Size("no-such-file"); !errors.Is(err, ftp.ErrNotFound) {
					t.Errorf("Size of a missing file: %v, want ErrNotFound", err)
				}
				switch mode {
				case "epsv":
					if !strings.Contains(wire.String(), "C: EPSV") {
						t.Error("EPSV not used")
					}
				case "pasv":
					if strings.Contains(wire.String(), "C: EPSV") || !strings.Contains(wire.String(), "C: PASV") {
						t.Error("PASV not used alone")
					}
				case "active":
					if !strings.Contains(wire.String(), "C: EPRT |1|127.0.0.1|") {
						t.Error("EPRT not used")
					}
				}
			})
		}
	}
}

func TestResumeAndMirror(t *testing.T) {
	testutil.CheckLeaks(t)
	p := ourServer(t, false)
	ctx := context.Background()
	c, err := ftp.Dial(ctx, p.addr, ftp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit()
	data := make([]byte, 2<<20)
	rand.Read(data)
	os.WriteFile(filepath.Join(p.dir, "f.bin"), data, 0o644)
	local := t.TempDir()
	os.WriteFile(filepath.Join(local, "f.bin"+ftp.PartSuffix), data[:700000], 0o644)
	st, err := c.Get(ctx, "f.bin", local, ftp.TransferOptions{Resume: true, Segments: 4})
	if err != nil || st.Resumed != 700000 || st.Bytes != int64(len(data))-700000 {
		t.Fatalf("resumed Get: %+v %v", st, err)
	}
	if got, _ := os.ReadFile(filepath.Join(local, "f.bin")); !bytes.Equal(got, data) {
		t.Fatal("the resumed copy differs")
	}
	os.WriteFile(filepath.Join(p.dir, "g.bin"+ftp.PartSuffix), data[:1<<20], 0o644)
	os.WriteFile(filepath.Join(local, "g.bin"), data, 0o644)
	st, err = c.Put(ctx, filepath.Join(local, "g.bin"), "g.bin", ftp.TransferOptions{Resume: true})
	if got, _ := os.ReadFile(filepath.Join(p.dir, "g.bin")); err != nil || st.Resumed != 1<<20 || !bytes.Equal(got, data) {
		t.Fatalf("resumed Put: %+v %v", st, err)
	}

	// A tree on the server, mirrored here, then changed and mirrored
	// again: only the change moves.
	os.MkdirAll(filepath.Join(p.dir, "tree", "a", "b"), 0o755)
	os.WriteFile(filepath.Join(p.dir, "tree", "one"), []byte("1"), 0o644)
	os.WriteFile(filepath.Join(p.dir, "tree", "a", "b", "two"), []byte("22"), 0o644)
	dst := filepath.Join(t.TempDir(), "copy")
	var acts []string
	record := func(a ftp.Action) { acts = append(acts, a.Op+" "+filepath.ToSlash(a.Path)) }
	if _, err := c.Mirror(ctx, "tree", dst, ftp.MirrorOptions{DryRun: true}, record); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Error("a dry run made the target")
	}
	sort.Strings(acts)
	if want := "get a/b/two,get one,mkdir a,mkdir a/b"; strings.Join(acts, ",") != want {
		t.Errorf("dry run: %q, want %q", acts, want)
	}
	acts = nil
	st, err = c.Mirror(ctx, "tree", dst, ftp.MirrorOptions{}, record)
	if err != nil || st.Files != 2 || st.Dirs != 2 {
		t.Fatalf("Mirror: %+v %v", st, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "a", "b", "two")); string(b) != "22" {
		t.Errorf("a/b/two: %q", b)
	}
	os.WriteFile(filepath.Join(p.dir, "tree", "one"), []byte("111"), 0o644)
	acts = nil
	st, err = c.Mirror(ctx, "tree", dst, ftp.MirrorOptions{}, record)
	if err != nil || st.Files != 1 || st.Skipped != 1 {
		t.Fatalf("second Mirror: %+v %v %q", st, err, acts)
	}
	// And back up, into a new directory on the server.
	os.WriteFile(filepath.Join(dst, "a", "new"), []byte("n"), 0o644)
	st, err = c.Mirror(ctx, "up", dst, ftp.MirrorOptions{Reverse: true}, func(ftp.Action) {})
	if err != nil || st.Files != 3 {
		t.Fatalf("reverse Mirror: %+v %v", st, err)
	}
	if b, _ := os.ReadFile(filepath.Join(p.dir, "up", "a", "new")); string(b) != "n" {
		t.Errorf("up/a/new: %q", b)
	}
	st, err = c.Mirror(ctx, "up", dst, ftp.MirrorOptions{Reverse: true}, func(ftp.Action) {})
	if err != nil || st.Files != 0 || st.Skipped != 3 {
		t.Fatalf("second reverse Mirror: %+v %v", st, err)
	}
}

func TestPASVBehindNAT(t *testing.T) {
	// pyftpdlib announces a documentation address in its PASV replies, as
	// a server behind NAT announces its inside address. Nothing is sent
	// there: the client must use the control connection's address.
	s := testutil.StartPyftpdlib(t, testutil.PyftpdlibOptions{Masquerade: "192.0.2.7"})
	ctx := context.Background()
	c, err := ftp.Dial(ctx, s.Addr, ftp.Options{DisableEPSV: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit()
	os.WriteFile(filepath.Join(s.Dir, "x"), []byte("through NAT"), 0o644)
	dst := filepath.Join(t.TempDir(), "x")
	if _, err := c.Get(ctx, "x", dst, ftp.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(c.Notices) == 0 || !strings.Contains(c.Notices[0], "192.0.2.7") {
		t.Errorf("notices %q: the replacement not reported", c.Notices)
	}
}

func TestServerRefusesBounceAndEscape(t *testing.T) {
	p := ourServer(t, false)
	ctx := context.Background()
	c, err := ftp.Dial(ctx, p.addr, ftp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit()
	outside := filepath.Join(filepath.Dir(p.dir), "outside-"+filepath.Base(p.dir))
	os.WriteFile(outside, []byte("secret"), 0o644)
	defer os.Remove(outside)
	if _, err := c.Size("../" + filepath.Base(outside)); err == nil {
		t.Error("SIZE reached outside the root")
	}
	if err := os.Symlink(outside, filepath.Join(p.dir, "link")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "link", t.TempDir(), ftp.TransferOptions{}); err == nil {
		t.Error("a symlink led outside the root")
	}
}

func TestServerRefusesPortToAnotherHost(t *testing.T) {
	p := ourServer(t, false)
	conn, err := textproto.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	steps := []struct {
		cmd  string
		want int
	}{{"", 220}, {"USER anonymous", 331}, {"PASS x", 230}, {"PORT 192,0,2,1,0,80", 504}, {"EPRT |1|192.0.2.1|80|", 504}, {"PORT 1,2,3", 501}}
	for _, s := range steps {
		if s.cmd != "" {
			conn.PrintfLine("%s", s.cmd)
		}
		if _, msg, err := conn.ReadResponse(s.want); err != nil {
			t.Errorf("%q: %v %s", s.cmd, err, msg)
		}
	}
}
