package remote

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kevinburke/ssh_config"
)

// Target is a destination resolved through the SSH configuration: what
// ssh -G would print for the keywords netkit honours.
type Target struct {
	Alias          string        // the name as given
	HostName       string        // the host to connect to
	User           string        // the login name
	Port           int           // the port
	IdentityFiles  []string      // the keys to offer, tildes expanded
	IdentitiesOnly bool          // offer only IdentityFiles, not the agent's keys
	ProxyJump      []string      // the jump hosts, in order, or none
	ConnectTimeout time.Duration // zero: none
	KnownHosts     []string      // UserKnownHostsFile
	StrictHostKeys string        // StrictHostKeyChecking: yes, accept-new, no
}

// Addr is HostName:Port.
func (t Target) Addr() string { return net.JoinHostPort(t.HostName, strconv.Itoa(t.Port)) }

// String is user@host:port.
func (t Target) String() string { return t.User + "@" + t.Addr() }

// ParseDestination splits [user@]host[:port], and the ssh:// URL form,
// into its parts; a port of zero means none was given. IPv6 addresses with
// a port are written in brackets.
func ParseDestination(dest string) (user, host string, port int, err error) {
	s := strings.TrimPrefix(dest, "ssh://")
	if i := strings.LastIndex(s, "@"); i >= 0 {
		user, s = s[:i], s[i+1:]
		if user == "" {
			return "", "", 0, fmt.Errorf("remote: destination %q: empty user before @", dest)
		}
	}
	host = s
	if strings.HasPrefix(s, "[") || strings.Count(s, ":") == 1 {
		h, p, splitErr := net.SplitHostPort(s)
		if splitErr != nil {
			return "", "", 0, fmt.Errorf("remote: destination %q: %v", dest, splitErr)
		}
		n, convErr := strconv.Atoi(p)
		if convErr != nil || n < 1 || n > 65535 {
			return "", "", 0, fmt.Errorf("remote: destination %q: port %q is not 1-65535", dest, p)
		}
		host, port = h, n
	}
	if host == "" || strings.ContainsAny(host, " \t/@") {
		return "", "", 0, fmt.Errorf("remote: destination %q: not [user@]host[:port]", dest)
	}
	return user, host, port, nil
}

// sshConfig is a parsed configuration file, or nothing.
type sshConfig struct{ cfg *ssh_config.Config }

func loadConfig(path string) (sshConfig, error) {
	if path == "none" {
		return sshConfig{}, nil
	}
	explicit := path != ""
	if !explicit {
		home, err := os.UserHomeDir()
		if err != nil {
			return sshConfig{}, nil
		}
		path = filepath.Join(home, ".ssh", "config")
	}
	f, err := os.Open(path)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			return sshConfig{}, nil
		}
		return sshConfig{}, fmt.Errorf("remote: ssh config: %w", err)
	}
	defer f.Close()
	cfg, err := ssh_config.Decode(f)
	if err != nil {
		return sshConfig{}, fmt.Errorf("remote: ssh config %s: %w", path, err)
	}
	return sshConfig{cfg}, nil
}

func (c sshConfig) get(alias, key string) string {
	if c.cfg == nil {
		return ""
	}
	v, _ := c.cfg.Get(alias, key)
	return v
}

func (c sshConfig) getAll(alias, key string) []string {
	if c.cfg == nil {
		return nil
	}
	v, _ := c.cfg.GetAll(alias, key)
	return v
}

// resolve applies the configuration to a destination, with overrides
// from the command line (a user or port in dest, then Options) winning
// over the file, as with ssh.
func (o *Options) resolve(cfg sshConfig, dest string) (Target, error) {
	user, host, port, err := ParseDestination(dest)
	if err != nil {
		return Target{}, err
	}
	t := Target{Alias: host, HostName: host}
	if v := cfg.get(host, "HostName"); v != "" {
		t.HostName = strings.ReplaceAll(v, "%h", host)
	}
	t.User = firstNonEmpty(user, o.User, cfg.get(host, "User"))
	if t.User == "" {
		t.User = currentUser()
	}
	switch {
	case port != 0:
		t.Port = port
	case o.Port != 0:
		t.Port = o.Port
	default:
		t.Port = 22
		if v := cfg.get(host, "Port"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 65535 {
				return Target{}, fmt.Errorf("remote: ssh config: Host %s: Port %q is not 1-65535", host, v)
			}
			t.Port = n
		}
	}
	home, _ := os.UserHomeDir()
	expand := func(p string) string {
		r := strings.NewReplacer("%h", t.HostName, "%p", strconv.Itoa(t.Port), "%r", t.User, "%u", currentUser(), "%d", home, "%%", "%")
		p = r.Replace(p)
		if p == "~" || strings.HasPrefix(p, "~/") {
			p = filepath.Join(home, p[1:])
		}
		return p
	}
	ids := o.Identities
	if len(ids) == 0 {
		ids = cfg.getAll(host, "IdentityFile")
	}
	for _, p := range ids {
		t.IdentityFiles = append(t.IdentityFiles, expand(p))
	}
	if len(t.IdentityFiles) == 0 && home != "" {
		for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			t.IdentityFiles = append(t.IdentityFiles, filepath.Join(home, ".ssh", n))
		}
	}
	t.IdentitiesOnly = strings.EqualFold(cfg.get(host, "IdentitiesOnly"), "yes")
	jump := o.ProxyJump
	if jump == "" {
		jump = cfg.get(host, "ProxyJump")
	}
	if jump != "" && jump != "none" {
		for _, j := range strings.Split(jump, ",") {
			if j = strings.TrimSpace(j); j != "" {
				t.ProxyJump = append(t.ProxyJump, j)
			}
		}
	}
	t.ConnectTimeout = o.ConnectTimeout
	if v := cfg.get(host, "ConnectTimeout"); v != "" && t.ConnectTimeout == 0 {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return Target{}, fmt.Errorf("remote: ssh config: Host %s: ConnectTimeout %q is not a number of seconds", host, v)
		}
		t.ConnectTimeout = time.Duration(n) * time.Second
	}
	t.KnownHosts = o.KnownHosts
	if len(t.KnownHosts) == 0 {
		for _, f := range cfg.getAll(host, "UserKnownHostsFile") {
			for _, p := range strings.Fields(f) {
				t.KnownHosts = append(t.KnownHosts, expand(p))
			}
		}
	}
	if len(t.KnownHosts) == 0 && home != "" {
		t.KnownHosts = []string{filepath.Join(home, ".ssh", "known_hosts")}
	}
	t.StrictHostKeys = string(o.HostKeys)
	if t.StrictHostKeys == "" {
		switch v := strings.ToLower(cfg.get(host, "StrictHostKeyChecking")); v {
		case "no", "off":
			t.StrictHostKeys = string(AcceptNew) // ssh's "no" still refuses a changed key
		case "accept-new":
			t.StrictHostKeys = string(AcceptNew)
		default:
			t.StrictHostKeys = string(Strict)
		}
	}
	return t, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func currentUser() string {
	for _, k := range []string{"USER", "LOGNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	if os.Getuid() == 0 {
		return "root"
	}
	return strconv.Itoa(os.Getuid())
}
