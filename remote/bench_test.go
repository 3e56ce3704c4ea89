package remote_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/netkit-dev/netkit/internal/testutil"
	"github.com/netkit-dev/netkit/remote"
)

// BenchmarkSFTPGet copies 64 MiB from OpenSSH's sshd on loopback; the
// side-by-side comparison with OpenSSH's clients is bench/remote.sh.
func BenchmarkSFTPGet(b *testing.B) {
	d := testutil.StartSSHD(b)
	o := remote.Options{ConfigFile: d.Config(b, "box"), NoAgent: true}
	c, err := remote.Dial(context.Background(), "box", o)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	s, err := c.SFTP(remote.SFTPOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	src := filepath.Join(d.Dir, "big")
	const size = 64 << 20
	if err := os.WriteFile(src, make([]byte, size), 0o644); err != nil {
		b.Fatal(err)
	}
	dst := filepath.Join(b.TempDir(), "out")
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(context.Background(), src, dst, remote.TransferOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
