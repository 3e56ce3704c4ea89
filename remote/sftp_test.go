package remote_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/netkit-dev/netkit/internal/testutil"
	"github.com/netkit-dev/netkit/remote"
)

func sftpSession(t *testing.T) (*remote.SFTP, string) {
	t.Helper()
	d := testutil.StartSSHD(t)
	c := dial(t, "box", remote.Options{ConfigFile: d.Config(t, "box"), NoAgent: true})
	s, err := c.SFTP(remote.SFTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	dir, err := os.MkdirTemp("", "netkit-sftp-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return s, dir
}

func randomFile(t *testing.T, path string, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSFTPAgainstOpenSSH(t *testing.T) {
	s, srv := sftpSession(t) // srv: a directory the server writes into
	ctx := context.Background()
	local := t.TempDir()
	want := randomFile(t, filepath.Join(local, "big.bin"), 5<<20+17)

	st, err := s.Put(ctx, filepath.Join(local, "big.bin"), srv, remote.TransferOptions{})
	if err != nil || st.Files != 1 || st.Bytes != int64(len(want)) {
		t.Fatalf("Put: %+v %v", st, err)
	}
	if got, _ := os.ReadFile(filepath.Join(srv, "big.bin")); !bytes.Equal(got, want) {
		t.Fatalf("the server's copy differs (%d bytes of %d)", len(got), len(want))
	}
	if _, err := os.Stat(filepath.Join(srv, "big.bin"+remote.PartSuffix)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the part file is left behind: %v", err)
	}

	back := filepath.Join(t.TempDir(), "copy.bin")
	var calls int
	var last int64
	st, err = s.Get(ctx, filepath.Join(srv, "big.bin"), back, remote.TransferOptions{Progress: func(_ string, done, total int64) {
		calls++
		last = done
		if total != int64(len(want)) {
			t.Errorf("progress total %d", total)
		}
	}})
	if err != nil || st.Bytes != int64(len(want)) {
		t.Fatalf("Get: %+v %v", st, err)
	}
	if got, _ := os.ReadFile(back); !bytes.Equal(got, want) {
		t.Fatal("the downloaded copy differs")
	}
	if calls == 0 || last != int64(len(want)) {
		t.Errorf("progress: %d calls, last %d", calls, last)
	}

	t.Run("resume get", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "r.bin")
		os.WriteFile(dst+remote.PartSuffix, want[:1<<20], 0o644)
		st, err := s.Get(ctx, filepath.Join(srv, "big.bin"), dst, remote.TransferOptions{Resume: true})
		if err != nil || st.Resumed != 1<<20 || st.Bytes != int64(len(want))-1<<20 {
			t.Fatalf("resumed Get: %+v %v", st, err)
		}
		if got, _ := os.ReadFile(dst); !bytes.Equal(got, want) {
			t.Fatal("the resumed copy differs")
		}
	})
	t.Run("resume put", func(t *testing.T) {
		os.WriteFile(filepath.Join(srv, "p.bin"+remote.PartSuffix), want[:3<<20], 0o644)
		src := filepath.Join(local, "p.bin")
		os.WriteFile(src, want, 0o644)
		st, err := s.Put(ctx, src, filepath.Join(srv, "p.bin"), remote.TransferOptions{Resume: true})
		if err != nil || st.Resumed != 3<<20 {
			t.Fatalf("resumed Put: %+v %v", st, err)
		}
		if got, _ := os.ReadFile(filepath.Join(srv, "p.bin")); !bytes.Equal(got, want) {
			t.Fatal("the resumed upload differs")
		}
	})
	t.Run("tree", func(t *testing.T) {
		tree := filepath.Join(t.TempDir(), "tree")
		os.MkdirAll(filepath.Join(tree, "a", "b"), 0o755)
		os.MkdirAll(filepath.Join(tree, "empty"), 0o755)
		one := randomFile(t, filepath.Join(tree, "a", "one"), 1000)
		two := randomFile(t, filepath.Join(tree, "a", "b", "two"), 70000)
		if _, err := s.Put(ctx, tree, srv, remote.TransferOptions{}); err == nil {
			t.Error("a directory put without Recursive")
		}
		st, err := s.Put(ctx, tree, srv, remote.TransferOptions{Recursive: true})
		if err != nil || st.Files != 2 || st.Dirs != 4 {
			t.Fatalf("recursive Put: %+v %v", st, err)
		}
		into := t.TempDir()
		st, err = s.Get(ctx, filepath.Join(srv, "tree"), into, remote.TransferOptions{Recursive: true})
		if err != nil || st.Files != 2 {
			t.Fatalf("recursive Get: %+v %v", st, err)
		}
		if got, _ := os.ReadFile(filepath.Join(into, "tree", "a", "one")); !bytes.Equal(got, one) {
			t.Error("a/one differs")
		}
		if got, _ := os.ReadFile(filepath.Join(into, "tree", "a", "b", "two")); !bytes.Equal(got, two) {
			t.Error("a/b/two differs")
		}
		if fi, err := os.Stat(filepath.Join(into, "tree", "empty")); err != nil || !fi.IsDir() {
			t.Errorf("the empty directory: %v", err)
		}
	})
	t.Run("ls mkdir rm", func(t *testing.T) {
		d := filepath.Join(srv, "x", "y")
		if err := s.Mkdir(d, false); err == nil {
			t.Error("mkdir without parents made x/y")
		}
		if err := s.Mkdir(d, true); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d, "f"), []byte("hello"), 0o644)
		os.Symlink("f", filepath.Join(d, "l"))
		list, err := s.List(d)
		if err != nil {
			t.Fatal(err)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
		if len(list) != 2 || list[0].Name != "f" || list[0].Size != 5 || list[1].Link != "f" {
			t.Errorf("List: %+v", list)
		}
		if err := s.Remove(filepath.Join(srv, "x"), false); err == nil {
			t.Error("rm of a full directory without recursive")
		}
		if err := s.Remove(filepath.Join(srv, "x"), true); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(srv, "x")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("x still there: %v", err)
		}
		var te *remote.TransferError
		if _, err := s.List(filepath.Join(srv, "nope")); !errors.As(err, &te) || te.Path != filepath.Join(srv, "nope") {
			t.Errorf("List of a missing path: %v", err)
		}
	})
}

// A copy into a full disk fails with the disk's error, and leaves nothing
// under the final name.
func TestGetIntoAFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	s, srv := sftpSession(t)
	randomFile(t, filepath.Join(srv, "big.bin"), 3<<20)
	small := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", small).Run() })
	_, err := s.Get(context.Background(), filepath.Join(srv, "big.bin"), small, remote.TransferOptions{})
	if err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("Get into 1 MiB of disk: %v, want ENOSPC", err)
	}
	if _, err := os.Stat(filepath.Join(small, "big.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the final name exists after a failed copy: %v", err)
	}
}
