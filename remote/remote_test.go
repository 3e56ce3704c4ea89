package remote_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/internal/testutil"
	"github.com/netkit-dev/netkit/remote"
	"golang.org/x/crypto/ssh"
)

func dial(t *testing.T, dest string, o remote.Options) *remote.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := remote.Dial(ctx, dest, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRunAgainstOpenSSH(t *testing.T) {
	d := testutil.StartSSHD(t)
	o := remote.Options{ConfigFile: d.Config(t, "box"), NoAgent: true}
	c := dial(t, "box", o)
	if c.Target.Port != d.Port || c.Target.HostName != "127.0.0.1" || c.Target.User != d.User {
		t.Errorf("target %+v: the config's HostName, Port and User not applied", c.Target)
	}
	ctx := context.Background()
	tests := []struct {
		name, line, stdin string
		env               map[string]string
		wantOut, wantErr  string
		wantStatus        int
	}{
		{name: "stdout", line: "echo hello", wantOut: "hello\n"},
		{name: "stderr", line: "echo oops >&2", wantErr: "oops\n"},
		{name: "status", line: "exit 3", wantStatus: 3},
		{name: "stdin", line: "tr a-z A-Z", stdin: "quiet please\n", wantOut: "QUIET PLEASE\n"},
		{name: "env accepted", line: "echo $NETKIT_GREETING", env: map[string]string{"NETKIT_GREETING": "hi"}, wantOut: "hi\n"},
		{name: "signal", line: "kill -KILL $$", wantStatus: 255},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			cmd := remote.Command{Line: tt.line, Stdout: &out, Stderr: &errb, Env: tt.env}
			if tt.stdin != "" {
				cmd.Stdin = strings.NewReader(tt.stdin)
			}
			err := c.Run(ctx, cmd)
			var ee *remote.ExitError
			switch {
			case tt.wantStatus == 0 && err != nil:
				t.Fatalf("Run: %v (stderr %q)", err, errb.String())
			case tt.wantStatus != 0 && (!errors.As(err, &ee) || ee.Status != tt.wantStatus):
				t.Fatalf("Run: %v, want exit status %d", err, tt.wantStatus)
			}
			if out.String() != tt.wantOut || errb.String() != tt.wantErr {
				t.Errorf("stdout %q stderr %q, want %q and %q", out.String(), errb.String(), tt.wantOut, tt.wantErr)
			}
		})
	}
	t.Run("pty", func(t *testing.T) {
		var out bytes.Buffer
		if err := c.Run(ctx, remote.Command{Line: "tty; echo $TERM", PTY: true, Term: "vt100", Stdout: &out}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "/dev/pts/") || !strings.Contains(out.String(), "vt100") {
			t.Errorf("with a terminal: %q, want a /dev/pts name and TERM vt100", out.String())
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := c.Run(ctx, remote.Command{Line: "sleep 30"})
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
			t.Errorf("Run of sleep 30 with a 300ms context: %v after %v", err, time.Since(start))
		}
	})
}

func TestHostKeys(t *testing.T) {
	d := testutil.StartSSHD(t)
	base := remote.Options{ConfigFile: "none", Identities: []string{d.ClientKey}, User: d.User, NoAgent: true}
	ctx := context.Background()
	dest := d.Addr

	t.Run("listed", func(t *testing.T) {
		o := base
		o.KnownHosts = []string{d.KnownHosts}
		dial(t, dest, o)
	})
	t.Run("hashed", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		b, _ := os.ReadFile(d.KnownHosts)
		os.WriteFile(kh, b, 0o600)
		keygen := testutil.Program(t, "ssh-keygen")
		if out, err := exec.Command(keygen, "-H", "-f", kh).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen -H: %v %s", err, out)
		}
		if h, _ := os.ReadFile(kh); !bytes.HasPrefix(h, []byte("|1|")) {
			t.Fatalf("ssh-keygen -H wrote %q, not a hashed line", h)
		}
		o := base
		o.KnownHosts = []string{kh}
		dial(t, dest, o)
	})
	t.Run("changed", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		other := testutil.KeyPair(t, filepath.Join(t.TempDir(), "other"))
		os.WriteFile(kh, []byte(fmt.Sprintf("[127.0.0.1]:%d %s", d.Port, ssh.MarshalAuthorizedKey(other.PublicKey()))), 0o600)
		for _, policy := range []remote.HostKeyPolicy{remote.Strict, remote.AcceptNew} {
			o := base
			o.KnownHosts, o.HostKeys = []string{kh}, policy
			_, err := remote.Dial(ctx, dest, o)
			if !errors.Is(err, remote.ErrHostKeyChanged) {
				t.Errorf("%s: a changed key gave %v, want ErrHostKeyChanged", policy, err)
			}
		}
	})
	t.Run("unknown", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		o := base
		o.KnownHosts = []string{kh}
		if _, err := remote.Dial(ctx, dest, o); !errors.Is(err, remote.ErrHostUnknown) {
			t.Fatalf("an unknown host under Strict: %v, want ErrHostUnknown", err)
		}
		var notice string
		o.HostKeys, o.Notice = remote.AcceptNew, func(m string) { notice = m }
		dial(t, dest, o)
		if !strings.Contains(notice, "Permanently added") {
			t.Errorf("notice %q", notice)
		}
		// Now listed: strict accepts it, and OpenSSH reads the line we wrote.
		o.HostKeys = remote.Strict
		dial(t, dest, o)
		sshBin := testutil.Program(t, "ssh")
		out, err := exec.Command(sshBin, "-F", "none", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
			"-o", "UserKnownHostsFile="+kh, "-i", d.ClientKey, "-p", fmt.Sprint(d.Port), d.User+"@127.0.0.1", "echo", "ok").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "ok") {
			t.Errorf("OpenSSH with the known_hosts line we added: %v %s", err, out)
		}
	})
}

func TestProxyJump(t *testing.T) {
	jump := testutil.StartSSHD(t, "LogLevel DEBUG1")
	target := testutil.StartSSHD(t)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	a, _ := os.ReadFile(jump.KnownHosts)
	b, _ := os.ReadFile(target.KnownHosts)
	os.WriteFile(kh, append(a, b...), 0o600)
	cfg := filepath.Join(t.TempDir(), "config")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`Host jump
  HostName 127.0.0.1
  Port %d
  IdentityFile %s
Host inner
  HostName 127.0.0.1
  Port %d
  IdentityFile %s
  ProxyJump jump
Host *
  User %s
  UserKnownHostsFile %s
`, jump.Port, jump.ClientKey, target.Port, target.ClientKey, jump.User, kh)), 0o600)
	c := dial(t, "inner", remote.Options{ConfigFile: cfg, NoAgent: true})
	var out bytes.Buffer
	if err := c.Run(context.Background(), remote.Command{Line: "echo $SSH_CONNECTION", Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	// The target sees its client come from loopback (the jump host), and
	// the jump host's log shows the forwarded channel.
	if f := strings.Fields(out.String()); len(f) != 4 || f[3] != fmt.Sprint(target.Port) {
		t.Errorf("SSH_CONNECTION %q, want the target's port %d", out.String(), target.Port)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(jump.Log.String(), fmt.Sprintf("target 127.0.0.1 port %d", target.Port)) {
		if time.Now().After(deadline) {
			t.Fatalf("the jump host's log shows no forwarding to the target:\n%s", jump.Log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRunAll(t *testing.T) {
	d := testutil.StartSSHD(t)
	cfg := d.Config(t, "box")
	dead := testutil.Listen(t, "tcp") // accepts and says nothing: a stalled host
	hosts := []string{"box", "box", "127.0.0.1:1", "box"}
	// The host timeout is generous: a login here runs root's shell, which
	// may read a slow .bashrc (bash does under sshd). ConnectTimeout
	// bounds the handshake alone, and ends the stalled host.
	o := remote.RunAllOptions{Options: remote.Options{ConfigFile: cfg, NoAgent: true, ConnectTimeout: 3 * time.Second},
		Parallel: 5, Timeout: 60 * time.Second}
	var results []remote.Result
	failed := remote.RunAll(context.Background(), append(hosts, dead.Addr().String()), "echo $((6*7)); exit 0", o, func(r remote.Result) {
		results = append(results, r)
	})
	if failed != 2 || len(results) != 5 {
		t.Fatalf("%d failed of %d results, want 2 of 5: %+v", failed, len(results), results)
	}
	for _, r := range results {
		switch r.Host {
		case "box":
			if !r.OK() || r.Stdout != "42\n" {
				t.Errorf("box: %+v", r)
			}
		case "127.0.0.1:1":
			if r.OK() || !strings.Contains(r.Error, "connect") {
				t.Errorf("refused host: %+v", r)
			}
		default:
			if r.OK() || !strings.Contains(r.Error, "handshake") || r.Seconds < 2.5 || r.Seconds > 10 {
				t.Errorf("stalled host: %+v, want a failure of the handshake after the 3s connect timeout", r)
			}
		}
	}
}

func TestParseDestination(t *testing.T) {
	tests := []struct {
		in, user, host string
		port           int
		wantErr        bool
	}{
		{in: "example.org", host: "example.org"},
		{in: "ann@example.org:2222", user: "ann", host: "example.org", port: 2222},
		{in: "ssh://ann@[2001:db8::1]:22", user: "ann", host: "2001:db8::1", port: 22},
		{in: "2001:db8::1", host: "2001:db8::1"},
		{in: "a@b@c", user: "a@b", host: "c"},
		{in: "@host", wantErr: true},
		{in: "host:0", wantErr: true},
		{in: "host:99999", wantErr: true},
		{in: "host:ssh", wantErr: true},
		{in: "", wantErr: true},
		{in: "a/b", wantErr: true},
	}
	for _, tt := range tests {
		user, host, port, err := remote.ParseDestination(tt.in)
		if (err != nil) != tt.wantErr || user != tt.user || host != tt.host || port != tt.port {
			t.Errorf("ParseDestination(%q) = %q %q %d %v", tt.in, user, host, port, err)
		}
	}
}

// FuzzParseDestination feeds the destination, HOST:PATH, forward and
// hosts-file parsers the same inputs: none may panic, and what they
// accept must be whole.
func FuzzParseDestination(f *testing.F) {
	for _, s := range []string{"h", "u@h:22", "ssh://[::1]:2", "@", "a:b:c", "ann@[::1]:/x", "8080:localhost:80",
		"[::1]:80:[2001:db8::1]:80", "box\n# c\nbox:22\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, host, port, err := remote.ParseDestination(s)
		if err == nil && (host == "" || port < 0 || port > 65535) {
			t.Fatalf("%q: host %q port %d accepted", s, host, port)
		}
		if dest, p, err := remote.ParseRemotePath(s); err == nil {
			if _, _, _, err := remote.ParseDestination(dest); err != nil || p == "" {
				t.Fatalf("%q: remote path %q %q accepted with a bad destination (%v)", s, dest, p, err)
			}
		}
		if fw, err := remote.ParseForward(s); err == nil {
			for _, a := range []string{fw.Listen, fw.To} {
				if _, _, err := net.SplitHostPort(a); err != nil {
					t.Fatalf("%q: forward %+v: %v", s, fw, err)
				}
			}
		}
		if hosts, err := remote.ReadHosts(strings.NewReader(s), "f"); err == nil {
			for _, h := range hosts {
				if _, _, _, err := remote.ParseDestination(h); err != nil {
					t.Fatalf("%q: host %q accepted: %v", s, h, err)
				}
			}
		}
		remote.ReadAuthorizedKeys([]byte(s), "f")
	})
}

func TestParseRemotePath(t *testing.T) {
	for _, tt := range []struct{ in, dest, path string }{
		{"box:/etc/hosts", "box", "/etc/hosts"},
		{"ann@box:notes", "ann@box", "notes"},
		{"box:", "box", "."},
		{"[::1]:/x", "::1", "/x"},
		{"ann@[2001:db8::1]:y", "ann@2001:db8::1", "y"},
		{"ann@box:a:b", "ann@box", "a:b"},
		{"nocolon", "", ""},
		{":path", "", ""},
		{"[::1]/x", "", ""},
		{"@box:x", "", ""},
	} {
		dest, p, err := remote.ParseRemotePath(tt.in)
		if (tt.dest == "") != (err != nil) || dest != tt.dest || p != tt.path {
			t.Errorf("ParseRemotePath(%q) = %q %q %v, want %q %q", tt.in, dest, p, err, tt.dest, tt.path)
		}
	}
}

func TestAgentKeys(t *testing.T) {
	agentBin := testutil.Program(t, "ssh-agent")
	addBin := testutil.Program(t, "ssh-add")
	d := testutil.StartSSHD(t)
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agent := exec.Command(agentBin, "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatal("ssh-agent made no socket")
		}
	}
	add := exec.Command(addBin, d.ClientKey)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v %s", err, out)
	}
	t.Setenv("HOME", t.TempDir()) // no key files: only the agent has the key
	o := remote.Options{ConfigFile: "none", KnownHosts: []string{d.KnownHosts}, User: d.User}
	t.Setenv("SSH_AUTH_SOCK", "")
	if _, err := remote.Dial(context.Background(), d.Addr, o); err == nil {
		t.Fatal("logged in with no key at all")
	}
	t.Setenv("SSH_AUTH_SOCK", sock)
	c := dial(t, d.Addr, o)
	var out bytes.Buffer
	if err := c.Run(context.Background(), remote.Command{Line: "echo agent", Stdout: &out}); err != nil || out.String() != "agent\n" {
		t.Errorf("with the agent's key: %q %v", out.String(), err)
	}
	o.NoAgent = true
	if _, err := remote.Dial(context.Background(), d.Addr, o); err == nil {
		t.Error("NoAgent still used the agent")
	}
}

func TestPasswordFromAFile(t *testing.T) {
	srv := &remote.Server{Password: func(user, pw string) bool { return user == "ann" && pw == "s3cret" },
		Exec: func(ctx context.Context, cmd string, _ io.Reader, stdout, _ io.Writer) int {
			io.WriteString(stdout, "in\n")
			return 0
		}}
	ln := testutil.Listen(t, "tcp")
	testutil.Serve(t, func(ctx context.Context) error { return srv.Serve(ctx, ln) })
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	for _, tt := range []struct {
		pw   string
		want bool
	}{{"s3cret\n", true}, {"wrong\n", false}} {
		pf := filepath.Join(dir, "pw")
		os.WriteFile(pf, []byte(tt.pw), 0o600)
		pw, err := remote.ReadPasswordFile(pf)
		if err != nil {
			t.Fatal(err)
		}
		o := remote.Options{ConfigFile: "none", User: "ann", NoAgent: true, Password: pw, HostKeys: remote.AcceptNew,
			KnownHosts: []string{filepath.Join(dir, "kh")}}
		c, err := remote.Dial(context.Background(), ln.Addr().String(), o)
		if (err == nil) != tt.want {
			t.Errorf("password %q: %v", tt.pw, err)
		}
		if c != nil {
			c.Close()
		}
	}
}
