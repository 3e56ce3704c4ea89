package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// HostKeyPolicy says what to do with a host that known_hosts does not
// list. A key that differs from the listed one is always refused.
type HostKeyPolicy string

const (
	// Strict refuses unknown hosts (StrictHostKeyChecking yes).
	Strict HostKeyPolicy = "yes"
	// AcceptNew adds an unknown host's key to the first known_hosts
	// file and connects (StrictHostKeyChecking accept-new).
	AcceptNew HostKeyPolicy = "accept-new"
)

var (
	// ErrHostKeyChanged means the server offered a key other than the one
	// known_hosts lists for it: a new installation, or an attack.
	ErrHostKeyChanged = errors.New("remote: host key changed")
	// ErrHostUnknown means known_hosts does not list the server and the
	// policy is Strict.
	ErrHostUnknown = errors.New("remote: host key unknown")
)

// Options says how to reach hosts. The zero value behaves like ssh with
// the user's ~/.ssh: its config file, its keys, the agent, and strict
// host key checking against its known_hosts.
type Options struct {
	// ConfigFile is the ssh_config to read. If empty, ~/.ssh/config when
	// it exists; "none" reads none.
	ConfigFile string
	// User and Port override the configuration (a user or port in the
	// destination wins over both).
	User string
	Port int
	// Identities are private key files to offer instead of the
	// configuration's IdentityFile (ssh -i).
	Identities []string
	// ProxyJump overrides the configuration's ProxyJump (ssh -J):
	// comma-separated [user@]host[:port], or "none".
	ProxyJump string
	// ConnectTimeout bounds each TCP connect and handshake. If zero, the
	// configuration's ConnectTimeout, else none beyond the context.
	ConnectTimeout time.Duration
	// KnownHosts are the known_hosts files. If empty, the
	// configuration's UserKnownHostsFile, else ~/.ssh/known_hosts.
	KnownHosts []string
	// HostKeys is the policy for unknown hosts. If empty, the
	// configuration's StrictHostKeyChecking, else Strict.
	HostKeys HostKeyPolicy
	// NoAgent stops the agent at SSH_AUTH_SOCK being asked for keys.
	NoAgent bool
	// Password, if set, is asked for a password (or a key's passphrase)
	// when the keys are refused. The prompt names what is asked for.
	Password func(prompt string) (string, error)
	// Notice receives messages ssh would print on stderr, such as a host
	// added to known_hosts. If nil, they are dropped.
	Notice func(msg string)
	// Dial opens the TCP connection to the first hop. If nil, a
	// net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Client is a connection to a host, through its jump hosts.
type Client struct {
	*ssh.Client
	Target Target
	jumps  []*ssh.Client
}

// Close closes the connection and those to the jump hosts.
func (c *Client) Close() error {
	err := c.Client.Close()
	for i := len(c.jumps) - 1; i >= 0; i-- {
		c.jumps[i].Close()
	}
	return err
}

// Dial resolves dest ([user@]host[:port] or an ssh_config Host alias)
// and connects to it, through each ProxyJump host in turn.
func Dial(ctx context.Context, dest string, o Options) (*Client, error) {
	cfg, err := loadConfig(o.ConfigFile)
	if err != nil {
		return nil, err
	}
	t, err := o.resolve(cfg, dest)
	if err != nil {
		return nil, err
	}
	hops, err := o.hops(cfg, t, 0)
	if err != nil {
		return nil, err
	}
	var jumps []*ssh.Client
	fail := func(err error) (*Client, error) {
		for i := len(jumps) - 1; i >= 0; i-- {
			jumps[i].Close()
		}
		return nil, err
	}
	for _, h := range append(hops, t) {
		var via *ssh.Client
		if len(jumps) > 0 {
			via = jumps[len(jumps)-1]
		}
		c, err := o.dialHop(ctx, h, via)
		if err != nil {
			return fail(err)
		}
		jumps = append(jumps, c)
	}
	return &Client{Client: jumps[len(jumps)-1], Target: t, jumps: jumps[:len(jumps)-1]}, nil
}

// hops lists the jump hosts before t, each resolved through the
// configuration, a jump host's own ProxyJump before it.
func (o *Options) hops(cfg sshConfig, t Target, depth int) ([]Target, error) {
	if depth > 8 {
		return nil, fmt.Errorf("remote: ProxyJump for %s: more than 8 levels deep (a loop?)", t.Alias)
	}
	var out []Target
	jo := *o
	jo.User, jo.Port, jo.ProxyJump, jo.Identities = "", 0, "", nil
	for _, j := range t.ProxyJump {
		jt, err := jo.resolve(cfg, j)
		if err != nil {
			return nil, fmt.Errorf("remote: ProxyJump: %w", err)
		}
		if len(out) == 0 {
			before, err := o.hops(cfg, jt, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, before...)
		}
		jt.ProxyJump = nil
		out = append(out, jt)
	}
	return out, nil
}

// HopError is a failure to reach one host of the chain.
type HopError struct {
	Target Target
	Op     string // "connect", "handshake"
	Err    error
}

func (e *HopError) Error() string {
	return fmt.Sprintf("remote: %s %s: %v", e.Op, e.Target, e.Err)
}

func (e *HopError) Unwrap() error { return e.Err }

func (o *Options) dialHop(ctx context.Context, t Target, via *ssh.Client) (*ssh.Client, error) {
	if t.ConnectTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.ConnectTimeout)
		defer cancel()
	}
	var conn net.Conn
	var err error
	switch {
	case via != nil:
		conn, err = via.DialContext(ctx, "tcp", t.Addr())
	case o.Dial != nil:
		conn, err = o.Dial(ctx, "tcp", t.Addr())
	default:
		var d net.Dialer
		conn, err = d.DialContext(ctx, "tcp", t.Addr())
	}
	if err != nil {
		return nil, &HopError{t, "connect", err}
	}
	hk, algos, err := o.hostKeys(t)
	if err != nil {
		conn.Close()
		return nil, err
	}
	auth, closeAgent := o.auth(t)
	defer closeAgent()
	cc := &ssh.ClientConfig{
		User:              t.User,
		Auth:              auth,
		HostKeyCallback:   hk,
		HostKeyAlgorithms: algos,
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	sc, chans, reqs, err := ssh.NewClientConn(conn, t.Addr(), cc)
	if !stop() {
		if err == nil {
			sc.Close()
		}
		conn.Close()
		return nil, &HopError{t, "handshake", ctx.Err()}
	}
	if err != nil {
		conn.Close()
		var hke *hostKeyError
		if errors.As(err, &hke) {
			return nil, hke.err
		}
		return nil, &HopError{t, "handshake", err}
	}
	return ssh.NewClient(sc, chans, reqs), nil
}

// hostKeyError carries our own verdict out through the handshake's
// wrapping.
type hostKeyError struct{ err error }

func (e *hostKeyError) Error() string { return e.err.Error() }

var knownHostsMu sync.Mutex

func (o *Options) hostKeys(t Target) (ssh.HostKeyCallback, []string, error) {
	var files []string
	for _, f := range t.KnownHosts {
		if _, err := os.Stat(f); err == nil {
			files = append(files, f)
		}
	}
	var db *knownhosts.HostKeyDB
	if len(files) > 0 {
		var err error
		if db, err = knownhosts.NewDB(files...); err != nil {
			return nil, nil, fmt.Errorf("remote: known_hosts: %w", err)
		}
	}
	var algos []string
	if db != nil {
		algos = db.HostKeyAlgorithms(t.Addr())
	}
	cb := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := errNotListed
		if db != nil {
			if err = db.HostKeyCallback()(hostname, remote, key); err == nil {
				return nil
			}
		}
		fp := ssh.FingerprintSHA256(key)
		switch {
		case knownhosts.IsHostKeyChanged(err):
			return &hostKeyError{fmt.Errorf("%w for %s: it offered %s %s, not the key in %s (if the host was reinstalled, remove its line from known_hosts)",
				ErrHostKeyChanged, t.Addr(), key.Type(), fp, strings.Join(files, ", "))}
		case err == errNotListed || knownhosts.IsHostUnknown(err):
			if HostKeyPolicy(t.StrictHostKeys) != AcceptNew {
				return &hostKeyError{fmt.Errorf("%w: %s is not in %s; its %s key is %s (accept it with --accept-new, or add it with ssh-keyscan)",
					ErrHostUnknown, t.Addr(), strings.Join(t.KnownHosts, ", "), key.Type(), fp)}
			}
			if err := addKnownHost(t, hostname, remote, key); err != nil {
				return &hostKeyError{err}
			}
			if o.Notice != nil {
				o.Notice(fmt.Sprintf("Permanently added %s (%s) to %s", knownhosts.Normalize(hostname), key.Type(), t.KnownHosts[0]))
			}
			return nil
		default:
			return &hostKeyError{fmt.Errorf("remote: known_hosts: %w", err)}
		}
	}
	return cb, algos, nil
}

// errNotListed stands for a host with no known_hosts file at all.
var errNotListed = errors.New("no known_hosts file")

func addKnownHost(t Target, hostname string, remote net.Addr, key ssh.PublicKey) error {
	if len(t.KnownHosts) == 0 {
		return fmt.Errorf("remote: no known_hosts file to add %s to", hostname)
	}
	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	path := t.KnownHosts[0]
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("remote: known_hosts: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("remote: known_hosts: %w", err)
	}
	if err := knownhosts.WriteKnownHost(f, hostname, remote, key); err != nil {
		f.Close()
		return fmt.Errorf("remote: known_hosts %s: %w", path, err)
	}
	return f.Close()
}

// auth lists the methods to try: the agent's keys, the identity files,
// then a password when a prompt is available. The returned function
// closes the agent connection.
func (o *Options) auth(t Target) ([]ssh.AuthMethod, func()) {
	var signers []ssh.Signer
	done := func() {}
	if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" && !o.NoAgent && !t.IdentitiesOnly {
		if c, err := net.Dial("unix", sock); err == nil {
			if s, err := agent.NewClient(c).Signers(); err == nil {
				signers = append(signers, s...)
			}
			done = func() { c.Close() }
		}
	}
	for _, path := range t.IdentityFiles {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		s, err := ssh.ParsePrivateKey(b)
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) && o.Password != nil {
			pass, perr := o.Password(fmt.Sprintf("Enter passphrase for key '%s': ", path))
			if perr != nil {
				continue
			}
			s, err = ssh.ParsePrivateKeyWithPassphrase(b, []byte(pass))
		}
		if err != nil {
			if o.Notice != nil {
				o.Notice(fmt.Sprintf("skipping identity %s: %v", path, err))
			}
			continue
		}
		signers = append(signers, s)
	}
	var methods []ssh.AuthMethod
	if len(signers) > 0 {
		methods = append(methods, ssh.PublicKeys(signers...))
	}
	if o.Password != nil {
		prompt := fmt.Sprintf("%s's password: ", t.User+"@"+t.HostName)
		methods = append(methods,
			ssh.RetryableAuthMethod(ssh.PasswordCallback(func() (string, error) { return o.Password(prompt) }), 3),
			ssh.RetryableAuthMethod(ssh.KeyboardInteractive(func(name, instruction string, questions []string, echos []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i, q := range questions {
					a, err := o.Password(q)
					if err != nil {
						return nil, err
					}
					answers[i] = a
				}
				return answers, nil
			}), 3))
	}
	return methods, done
}

// ReadPasswordFile returns a Password function that answers every prompt
// with the first line of the file.
func ReadPasswordFile(path string) (func(string) (string, error), error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pw := strings.TrimRight(strings.SplitN(string(b), "\n", 2)[0], "\r")
	return func(string) (string, error) { return pw, nil }, nil
}

var _ io.Closer = (*Client)(nil)
