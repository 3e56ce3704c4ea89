package remote

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"sync"
	"syscall"

	"github.com/netkit-dev/netkit/internal/accept"
	"github.com/pkg/sftp"
	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// Server is a small SSH server: for tests, the tour and simulated
// devices, not a replacement for sshd. It accepts the public keys in
// AuthorizedKeys (and passwords, if Password is set), runs exec requests
// with Exec, shells with Shell, and serves the sftp subsystem inside
// SFTPRoot.
type Server struct {
	// HostKey is the server's key. If nil, an ed25519 key is made by
	// [Server.Serve] and then readable here.
	HostKey ssh.Signer
	// AuthorizedKeys are the client keys accepted.
	AuthorizedKeys []ssh.PublicKey
	// Password, if set, decides password logins.
	Password func(user, password string) bool
	// Exec runs a command and returns its exit status. If nil, exec
	// requests are refused.
	Exec func(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) int
	// Shell runs an interactive session (a shell request) on a channel,
	// with the terminal size asked for (zero without a PTY). If nil,
	// shell requests are refused.
	Shell func(ctx context.Context, ch io.ReadWriter, width, height int)
	// SFTPRoot, if set, is the sftp subsystem's working directory. It is
	// not a jail: absolute paths reach the whole file system, as the
	// logged-in user's would.
	SFTPRoot string

	mu sync.Mutex
}

// ShellExec is an Exec that runs the command with /bin/sh -c in the
// current directory, as sshd does in the user's home.
func ShellExec(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd)
	c.Stdin, c.Stdout, c.Stderr = stdin, stdout, stderr
	err := c.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if st, ok := ee.Sys().(syscall.WaitStatus); ok && st.Signaled() {
			return 128 + int(st.Signal())
		}
		return ee.ExitCode()
	}
	fmt.Fprintln(stderr, err)
	return 127
}

func (s *Server) config() (*ssh.ServerConfig, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.HostKey == nil {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		if s.HostKey, err = ssh.NewSignerFromKey(priv); err != nil {
			return nil, err
		}
	}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			for _, k := range s.AuthorizedKeys {
				if string(k.Marshal()) == string(key.Marshal()) {
					return &ssh.Permissions{}, nil
				}
			}
			return nil, errors.New("key not authorized")
		},
	}
	if s.Password != nil {
		cfg.PasswordCallback = func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if s.Password(c.User(), string(pw)) {
				return &ssh.Permissions{}, nil
			}
			return nil, errors.New("wrong password")
		}
	}
	cfg.AddHostKey(s.HostKey)
	return cfg, nil
}

// Serve accepts connections on ln until ctx ends, then closes them and
// waits for their sessions.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	cfg, err := s.config()
	if err != nil {
		return err
	}
	return accept.Serve(ctx, ln, func(c net.Conn) { s.serveConn(ctx, c, cfg) })
}

func (s *Server) serveConn(ctx context.Context, c net.Conn, cfg *ssh.ServerConfig) {
	defer c.Close()
	sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	defer wg.Wait()
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.session(ctx, ch, creqs)
		}()
	}
}

func (s *Server) session(ctx context.Context, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	var width, height int
	exit := func(code int) {
		ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, uint32(code)))
	}
	for req := range reqs {
		switch req.Type {
		case "pty-req":
			var p struct {
				Term          string
				Width, Height uint32
				PW, PH        uint32
				Modes         string
			}
			if ssh.Unmarshal(req.Payload, &p) == nil {
				width, height = int(p.Width), int(p.Height)
			}
			req.Reply(true, nil)
		case "env":
			req.Reply(false, nil)
		case "exec":
			var p struct{ Cmd string }
			if s.Exec == nil || ssh.Unmarshal(req.Payload, &p) != nil {
				req.Reply(false, nil)
				continue
			}
			req.Reply(true, nil)
			code := s.Exec(ctx, p.Cmd, ch, ch, ch.Stderr())
			ch.CloseWrite()
			exit(code)
			return
		case "shell":
			if s.Shell == nil {
				req.Reply(false, nil)
				continue
			}
			req.Reply(true, nil)
			go ssh.DiscardRequests(reqs)
			s.Shell(ctx, ch, width, height)
			exit(0)
			return
		case "subsystem":
			var p struct{ Name string }
			if s.SFTPRoot == "" || ssh.Unmarshal(req.Payload, &p) != nil || p.Name != "sftp" {
				req.Reply(false, nil)
				continue
			}
			req.Reply(true, nil)
			go ssh.DiscardRequests(reqs)
			srv, err := sftp.NewServer(ch, sftp.WithServerWorkingDirectory(s.SFTPRoot))
			if err != nil {
				return
			}
			srv.Serve()
			srv.Close()
			exit(0)
			return
		default:
			req.Reply(false, nil)
		}
	}
}

// KnownHostsLine is the known_hosts line for the server's host key at
// addr (host:port), as ssh-keyscan would print it. Call it after
// [Server.Serve] has started, or with HostKey set.
func (s *Server) KnownHostsLine(addr string) (string, error) {
	if _, err := s.config(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return knownhosts.Line([]string{knownhosts.Normalize(addr)}, s.HostKey.PublicKey()), nil
}

// NewKey makes an ed25519 key pair: the signer, and the private key in
// OpenSSH's PEM format for a file that ssh -i reads.
func NewKey() (ssh.Signer, []byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "netkit")
	if err != nil {
		return nil, nil, err
	}
	s, err := ssh.NewSignerFromKey(priv)
	return s, pem.EncodeToMemory(block), err
}

// ReadAuthorizedKeys reads an authorized_keys file's keys; options
// before a key are ignored, and a line that is not a key is an error
// naming it.
func ReadAuthorizedKeys(b []byte, name string) ([]ssh.PublicKey, error) {
	var keys []ssh.PublicKey
	for n := 1; len(b) > 0; n++ {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if t := bytes.TrimSpace(line); len(t) == 0 || t[0] == '#' {
			continue
		}
		k, _, _, _, err := ssh.ParseAuthorizedKey(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: not a public key: %v", name, n, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}
