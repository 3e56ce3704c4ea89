package testutil

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// SSHD is OpenSSH's sshd serving a loopback listener of the test's own:
// each connection accepted is handed to a new `sshd -i` (inetd mode), so
// no port is ever guessed. The client's key is authorized for the
// current user.
type SSHD struct {
	Addr       string        // 127.0.0.1:port
	Port       int           // the port alone
	HostKey    ssh.PublicKey // the server's ed25519 host key
	ClientKey  string        // the path of an authorized private key (OpenSSH format)
	KnownHosts string        // a known_hosts file listing the server
	Dir        string        // the directory holding the server's files
	User       string        // the user to log in as
	Log        *SyncBuffer   // sshd's log (-e)
}

// KeyPair writes a new ed25519 private key to path in OpenSSH format, with
// its .pub beside it, and returns the signer.
func KeyPair(t testing.TB, path string) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(s.PublicKey()), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

// StartSSHD starts sshd for the test with the given extra sshd_config
// lines; it skips (or fails under NETKIT_REQUIRE_INTEROP=1) without
// sshd.
func StartSSHD(t testing.TB, extra ...string) *SSHD {
	t.Helper()
	bin := "/usr/sbin/sshd"
	if _, err := os.Stat(bin); err != nil {
		bin = Program(t, "sshd")
	}
	dir, err := os.MkdirTemp("", "netkit-sshd-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		os.MkdirAll("/run/sshd", 0o755) // privilege separation needs it
	}
	host := KeyPair(t, filepath.Join(dir, "host_ed25519"))
	client := KeyPair(t, filepath.Join(dir, "client_ed25519"))
	auth := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(auth, ssh.MarshalAuthorizedKey(client.PublicKey()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "sshd_config")
	// sshd keeps the first value it reads for a keyword: extra lines first.
	lines := append(extra,
		"HostKey "+filepath.Join(dir, "host_ed25519"),
		"AuthorizedKeysFile "+auth,
		"StrictModes no",
		"UsePAM no",
		"PermitRootLogin prohibit-password",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"Subsystem sftp internal-sftp",
		"AcceptEnv NETKIT_*",
		"LogLevel VERBOSE",
	)
	if err := os.WriteFile(cfg, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-t", "-f", cfg).CombinedOutput(); err != nil {
		t.Fatalf("sshd -t: %v\n%s", err, out)
	}
	ln := Listen(t, "tcp")
	s := &SSHD{Addr: ln.Addr().String(), Port: ln.Addr().(*net.TCPAddr).Port, HostKey: host.PublicKey(),
		ClientKey: filepath.Join(dir, "client_ed25519"), Dir: dir, Log: &SyncBuffer{}}
	s.User = os.Getenv("USER")
	if s.User == "" {
		s.User = "root"
		if os.Geteuid() != 0 {
			t.Skip("USER is not set")
		}
	}
	s.KnownHosts = filepath.Join(dir, "known_hosts")
	line := fmt.Sprintf("[127.0.0.1]:%d %s", s.Port, ssh.MarshalAuthorizedKey(host.PublicKey()))
	if err := os.WriteFile(s.KnownHosts, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	serveInetd(t, ln, func() *exec.Cmd {
		cmd := exec.Command(bin, "-i", "-e", "-f", cfg)
		cmd.Stderr = s.Log
		return cmd
	})
	return s
}

// Config writes an ssh_config for the server under the alias and
// returns its path; more lines are added to the Host block.
func (s *SSHD) Config(t testing.TB, alias string, more ...string) string {
	t.Helper()
	lines := append([]string{
		"Host " + alias,
		"  HostName 127.0.0.1",
		fmt.Sprintf("  Port %d", s.Port),
		"  User " + s.User,
		"  IdentityFile " + s.ClientKey,
		"  UserKnownHostsFile " + s.KnownHosts,
	}, more...)
	p := filepath.Join(t.TempDir(), "ssh_config")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
