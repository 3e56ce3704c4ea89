package ftp_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netkit-dev/netkit/ftp"
	"github.com/netkit-dev/netkit/internal/testutil"
)

// serve starts our server over dir, with TLS offered.
func serve(t *testing.T, dir string) string {
	t.Helper()
	ln := testutil.Listen(t, "tcp")
	cert, _ := testutil.SelfSigned(t)
	srv := &ftp.Server{Root: dir, Writable: true, TLS: &tls.Config{Certificates: []tls.Certificate{cert}}}
	testutil.Serve(t, func(ctx context.Context) error { return srv.Serve(ctx, ln) })
	return ln.Addr().String()
}

func TestServerWithCurl(t *testing.T) {
	curl := testutil.Program(t, "curl")
	dir := t.TempDir()
	addr := serve(t, dir)
	data := make([]byte, 1<<20+5)
	rand.Read(data)
	os.WriteFile(filepath.Join(dir, "f.bin"), data, 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	local := t.TempDir()
	up := filepath.Join(local, "up.bin")
	os.WriteFile(up, data[:1000], 0o644)
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"epsv", nil},
		{"pasv", []string{"--disable-epsv"}},
		{"active", []string{"--ftp-port", "127.0.0.1"}},
		{"ftpes", []string{"--ssl-reqd", "-k"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(local, tt.name+".bin")
			run := func(args ...string) string {
				t.Helper()
				b, err := exec.Command(curl, append(append([]string{"-sS", "--max-time", "20"}, tt.args...), args...)...).CombinedOutput()
				if err != nil {
					t.Fatalf("curl %s: %v\n%s", strings.Join(args, " "), err, b)
				}
				return string(b)
			}
			run("-o", out, "ftp://"+addr+"/f.bin")
			if got, _ := os.ReadFile(out); !bytes.Equal(got, data) {
				t.Fatalf("curl got %d bytes of %d", len(got), len(data))
			}
			run("-T", up, "ftp://"+addr+"/sub/"+tt.name+"-up.bin")
			if got, _ := os.ReadFile(filepath.Join(dir, "sub", tt.name+"-up.bin")); !bytes.Equal(got, data[:1000]) {
				t.Fatalf("curl's upload: %d bytes", len(got))
			}
			list := run("ftp://" + addr + "/")
			if !strings.Contains(list, " f.bin") || !strings.Contains(list, "drwx") {
				t.Errorf("LIST through curl: %q", list)
			}
			// A resumed download: curl sends REST.
			os.WriteFile(out, data[:4096], 0o644)
			run("-C", "-", "-o", out, "ftp://"+addr+"/f.bin")
			if got, _ := os.ReadFile(out); !bytes.Equal(got, data) {
				t.Fatal("curl -C - did not resume to the same bytes")
			}
		})
	}
}

func TestServerWithLftp(t *testing.T) {
	lftp := testutil.Program(t, "lftp")
	dir := t.TempDir()
	addr := serve(t, dir)
	host, port, _ := strings.Cut(addr, ":")
	data := make([]byte, 4<<20)
	rand.Read(data)
	os.MkdirAll(filepath.Join(dir, "tree", "a"), 0o755)
	os.WriteFile(filepath.Join(dir, "tree", "big.bin"), data, 0o644)
	os.WriteFile(filepath.Join(dir, "tree", "a", "small"), []byte("small"), 0o644)
	local := t.TempDir()
	for _, passive := range []string{"on", "off"} {
		script := fmt.Sprintf("set ftp:ssl-allow no; set ftp:passive-mode %s; set net:max-retries 1; set net:timeout 10; open -u anonymous,x -p %s %s; mirror tree %s; pget -n 4 tree/big.bin -o %s",
			passive, port, host, filepath.Join(local, "m-"+passive), filepath.Join(local, "pget-"+passive))
		if b, err := exec.Command(lftp, "-c", script).CombinedOutput(); err != nil {
			t.Fatalf("lftp with passive %s: %v\n%s", passive, err, b)
		}
		for _, f := range []string{filepath.Join("m-"+passive, "big.bin"), "pget-" + passive} {
			if got, _ := os.ReadFile(filepath.Join(local, f)); !bytes.Equal(got, data) {
				t.Errorf("lftp with passive %s: %s has %d bytes", passive, f, len(got))
			}
		}
		if got, _ := os.ReadFile(filepath.Join(local, "m-"+passive, "a", "small")); string(got) != "small" {
			t.Errorf("lftp mirror: a/small %q", got)
		}
	}
}
