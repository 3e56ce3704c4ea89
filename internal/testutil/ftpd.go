package testutil

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// FTPD is an FTP server started for a test, serving Dir to anonymous
// users, who may write.
type FTPD struct {
	Addr string // 127.0.0.1:port
	Dir  string // the served directory, or its writable subdirectory Cwd
	Cwd  string // where to change to before writing, or ""
	Log  *SyncBuffer
}

// VsftpdOptions choose what the vsftpd instance offers.
type VsftpdOptions struct {
	TLS      bool // explicit AUTH TLS, and TLS on the data connections
	Implicit bool // TLS from the first byte
}

// CertFiles writes a self-signed certificate for 127.0.0.1 and its key
// into dir as cert.pem and key.pem.
func CertFiles(t testing.TB, dir string) (cert, key string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(priv)
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key
}

// StartVsftpd runs vsftpd in inetd mode on a listener of the test's own:
// each connection is handed to a new vsftpd. It needs root (vsftpd
// chroots anonymous users) and skips without it unless
// NETKIT_REQUIRE_INTEROP=1.
func StartVsftpd(t testing.TB, o VsftpdOptions) *FTPD {
	t.Helper()
	bin := "/usr/sbin/vsftpd"
	if _, err := os.Stat(bin); err != nil {
		bin = Program(t, "vsftpd")
	}
	if os.Geteuid() != 0 {
		if RequireInterop() {
			t.Fatal("vsftpd needs root to chroot anonymous users")
		}
		t.Skip("vsftpd needs root")
	}
	ftpUser, err := user.Lookup("ftp")
	if err != nil {
		t.Fatalf("vsftpd serves anonymous users as the user ftp, which is missing: %v", err)
	}
	uid, _ := strconv.Atoi(ftpUser.Uid)
	gid, _ := strconv.Atoi(ftpUser.Gid)
	conf, err := os.MkdirTemp("", "netkit-vsftpd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(conf) })
	os.Chmod(conf, 0o755)
	// vsftpd refuses a chroot its user can write to: the root is root's,
	// and the writable directory, Dir, is pub inside it.
	root := filepath.Join(conf, "root")
	dir := filepath.Join(root, "pub")
	os.MkdirAll(dir, 0o755)
	os.Chown(dir, uid, gid)
	os.MkdirAll("/var/run/vsftpd/empty", 0o755)
	lines := []string{
		"listen=NO", "listen_ipv6=NO", "background=NO",
		"anonymous_enable=YES", "local_enable=NO", "no_anon_password=YES",
		"write_enable=YES", "anon_upload_enable=YES", "anon_mkdir_write_enable=YES",
		"anon_other_write_enable=YES", "anon_umask=022", "anon_root=" + root,
		"connect_from_port_20=NO",
		"pasv_enable=YES", "port_enable=YES", "seccomp_sandbox=NO",
		"secure_chroot_dir=/var/run/vsftpd/empty", "ftp_username=ftp",
		"xferlog_enable=NO", "log_ftp_protocol=YES", "dual_log_enable=NO",
		"vsftpd_log_file=" + filepath.Join(conf, "vsftpd.log"),
	}
	if o.TLS || o.Implicit {
		cert, key := CertFiles(t, conf)
		lines = append(lines, "ssl_enable=YES", "allow_anon_ssl=YES",
			"force_anon_logins_ssl=YES", "force_anon_data_ssl=YES",
			"rsa_cert_file="+cert, "rsa_private_key_file="+key)
		if o.Implicit {
			lines = append(lines, "implicit_ssl=YES")
		}
	}
	cfg := filepath.Join(conf, "vsftpd.conf")
	os.WriteFile(cfg, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	ln := Listen(t, "tcp")
	s := &FTPD{Addr: ln.Addr().String(), Dir: dir, Cwd: "pub", Log: &SyncBuffer{}}
	serveInetd(t, ln, func() *exec.Cmd {
		cmd := exec.Command(bin, cfg)
		cmd.Stderr = s.Log
		return cmd
	})
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(conf, "vsftpd.log"))
			t.Logf("vsftpd log:\n%s%s", b, s.Log.String())
		}
	})
	return s
}

// serveInetd hands each connection on ln to a new process from mk, as
// its stdin and stdout, until the test ends.
func serveInetd(t testing.TB, ln net.Listener, mk func() *exec.Cmd) {
	var mu sync.Mutex
	var procs []*exec.Cmd
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f, err := c.(*net.TCPConn).File()
			c.Close()
			if err != nil {
				continue
			}
			cmd := mk()
			cmd.Stdin, cmd.Stdout = f, f
			err = cmd.Start()
			f.Close()
			if err != nil {
				continue
			}
			mu.Lock()
			procs = append(procs, cmd)
			mu.Unlock()
			go cmd.Wait()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, p := range procs {
			p.Process.Kill()
		}
	})
}

// PyftpdlibOptions choose what the pyftpdlib instance offers.
type PyftpdlibOptions struct {
	TLS bool // explicit AUTH TLS (needs python3-openssl)
	// Masquerade is the address PASV announces instead of the real one
	// (pyftpdlib's masquerade_address), as a server behind NAT does.
	Masquerade string
}

// StartPyftpdlib runs Python's pyftpdlib on 127.0.0.1:0, serving a new
// directory to anonymous users with write access.
func StartPyftpdlib(t testing.TB, o PyftpdlibOptions) *FTPD {
	t.Helper()
	py := "/usr/bin/python3" // Debian's python3-pyftpdlib lives there, whatever python3 is first on PATH
	if _, err := os.Stat(py); err != nil {
		py = Program(t, "python3")
	}
	if err := exec.Command(py, "-c", "import pyftpdlib").Run(); err != nil {
		if RequireInterop() {
			t.Fatal("pyftpdlib is not installed (python3-pyftpdlib) and NETKIT_REQUIRE_INTEROP=1")
		}
		t.Skip("pyftpdlib is not installed (python3-pyftpdlib)")
	}
	dir := t.TempDir()
	handler := "FTPHandler"
	extra := ""
	if o.TLS {
		handler = "TLS_FTPHandler"
		cert, key := CertFiles(t, t.TempDir())
		extra = "h.certfile = " + strconv.Quote(cert) + "\nh.keyfile = " + strconv.Quote(key) + "\nh.tls_control_required = True\nh.tls_data_required = True\n"
	}
	if o.Masquerade != "" {
		extra += "h.masquerade_address = " + strconv.Quote(o.Masquerade) + "\n"
	}
	script := `import sys, logging
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import ` + handler + ` as h
from pyftpdlib.servers import FTPServer
a = DummyAuthorizer()
a.add_anonymous(sys.argv[1], perm="elradfmwMT")
h.authorizer = a
` + extra + `s = FTPServer(("127.0.0.1", 0), h)
print(s.address[1], flush=True)
s.serve_forever()
`
	cmd := exec.Command(py, "-c", script, dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &FTPD{Dir: dir, Log: &SyncBuffer{}}
	cmd.Stderr = s.Log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pyftpdlib's log:\n%s", s.Log.String())
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("pyftpdlib did not start: %v\n%s", err, s.Log.String())
	}
	s.Addr = "127.0.0.1:" + strings.TrimSpace(line)
	return s
}
