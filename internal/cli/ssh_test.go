package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/internal/testutil"
	"github.com/netkit-dev/netkit/remote"
	"golang.org/x/crypto/ssh"
)

func TestSSHCommand(t *testing.T) {
	d := testutil.StartSSHD(t)
	cfg := d.Config(t, "box")
	hostsFile := filepath.Join(t.TempDir(), "hosts")
	os.WriteFile(hostsFile, []byte("# the fleet\nbox\nbox  # twice\n127.0.0.1:1\n"), 0o644)
	badHosts := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(badHosts, []byte("box\nann@:22\n"), 0o644)
	tests := []struct {
		name     string
		stdin    string
		args     []string
		wantCode int
		wantOut  []string // substrings of stdout
		wantErr  []string // substrings of stderr
	}{
		{name: "run", args: []string{"box", "echo", "hello", "world"}, wantOut: []string{"hello world\n"}},
		{name: "after dash", args: []string{"box", "--", "ls", "-d", "/"}, wantOut: []string{"/\n"}},
		{name: "status passed through", args: []string{"box", "exit 7"}, wantCode: 7},
		{name: "stdin", stdin: "abc\n", args: []string{"box", "wc", "-c"}, wantOut: []string{"4\n"}},
		{name: "no stdin", stdin: "abc\n", args: []string{"-n", "box", "wc", "-c"}, wantOut: []string{"0\n"}},
		{name: "json", args: []string{"--json", "box", "echo hi; echo err >&2; exit 4"}, wantCode: 1,
			wantOut: []string{`"host":"box"`, `"exit":4`, `"stdout":"hi\n"`, `"stderr":"err\n"`}},
		{name: "many", args: []string{"--hosts", hostsFile, "--", "echo", "up"}, wantCode: 1,
			wantOut: []string{"OK box exit 0", "  up\n", "FAILED 127.0.0.1:1 exit -1"},
			wantErr: []string{"1 of 3 hosts failed: 127.0.0.1:1 (remote: connect"}},
		{name: "unknown host", args: []string{"--known-hosts", filepath.Join(t.TempDir(), "none"), "box", "true"}, wantCode: 1,
			wantErr: []string{"host key unknown", "--accept-new"}},
		{name: "bad hosts file", args: []string{"--hosts", badHosts, "--", "true"}, wantCode: 2, wantErr: []string{badHosts + ":2:"}},
		{name: "bad destination", args: []string{"box:99999", "true"}, wantCode: 2, wantErr: []string{"port \"99999\" is not 1-65535"}},
		{name: "no host", args: []string{}, wantCode: 2, wantErr: []string{"needs a host"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"ssh", "-F", cfg, "--no-agent"}, tt.args...)
			r := start(t, strings.NewReader(tt.stdin), args...)
			if code := r.wait(t); code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tt.wantCode, r.out.String(), r.err.String())
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(r.out.String(), w) {
					t.Errorf("stdout %q lacks %q", r.out.String(), w)
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(r.err.String(), w) {
					t.Errorf("stderr %q lacks %q", r.err.String(), w)
				}
			}
		})
	}
}

func TestSFTPCommand(t *testing.T) {
	d := testutil.StartSSHD(t)
	cfg := d.Config(t, "box")
	srv, err := os.MkdirTemp("", "netkit-sftp-cli-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(srv) })
	local := t.TempDir()
	data := bytes.Repeat([]byte("netkit "), 300000)
	os.WriteFile(filepath.Join(local, "f.txt"), data, 0o644)
	run := func(wantCode int, args ...string) *running {
		t.Helper()
		r := start(t, nil, append([]string{"sftp", args[0], "-F", cfg, "--no-agent"}, args[1:]...)...)
		if code := r.wait(t); code != wantCode {
			t.Fatalf("netkit sftp %s: exit %d, want %d; stdout %q stderr %q", strings.Join(args, " "), code, wantCode, r.out.String(), r.err.String())
		}
		return r
	}
	r := run(0, "put", filepath.Join(local, "f.txt"), "box:"+srv+"/")
	if !strings.Contains(r.out.String(), "1 files, 2.0 MiB") {
		t.Errorf("put: %q", r.out.String())
	}
	run(0, "mkdir", "-p", "box:"+srv+"/a/b")
	r = run(0, "ls", "--json", "box:"+srv)
	var list []struct {
		Name string
		Size int64
		Dir  bool
	}
	if err := json.Unmarshal([]byte(r.out.String()), &list); err != nil || len(list) != 2 {
		t.Fatalf("ls --json: %v %q", err, r.out.String())
	}
	for _, e := range list {
		if (e.Name == "f.txt" && e.Size != int64(len(data))) || (e.Name == "a" && !e.Dir) {
			t.Errorf("ls entry %+v", e)
		}
	}
	got := filepath.Join(t.TempDir(), "back")
	run(0, "get", "box:"+srv+"/f.txt", got)
	if b, _ := os.ReadFile(got); !bytes.Equal(b, data) {
		t.Error("get: the copy differs")
	}
	r = run(1, "get", "box:"+srv+"/a", t.TempDir())
	if !strings.Contains(r.err.String(), "is a directory (use -r)") {
		t.Errorf("get of a directory: %q", r.err.String())
	}
	run(1, "rm", "box:"+srv+"/a")
	run(0, "rm", "-r", "box:"+srv+"/a")
	if _, err := os.Stat(filepath.Join(srv, "a")); err == nil {
		t.Error("rm -r left the directory")
	}
	r = run(2, "get", "nohost", ".")
	if !strings.Contains(r.err.String(), "no HOST:PATH") {
		t.Errorf("get without a remote path: %q", r.err.String())
	}
}

func TestSSHDevice(t *testing.T) {
	dir := t.TempDir()
	key := testutil.KeyPair(t, filepath.Join(dir, "id"))
	srv := &remote.Server{AuthorizedKeys: []ssh.PublicKey{key.PublicKey()}, Shell: testutil.FakeRouter}
	ln := testutil.Listen(t, "tcp")
	testutil.Serve(t, func(ctx context.Context) error { return srv.Serve(ctx, ln) })
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("cisco\n"), 0o600)
	base := []string{"ssh", "-F", "none", "--no-agent", "-i", filepath.Join(dir, "id"), "-l", "admin",
		"--known-hosts", filepath.Join(dir, "known_hosts"), "--accept-new"}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{name: "show", args: []string{"--platform", "cisco_ios", ln.Addr().String(), "show version", "show tricky"},
			wantOut: []string{"OK " + ln.Addr().String(), "  r1> show version\n    version line 1\n", "    version line 30\n", "    r1#\n    r1(config)# is only text\n    end of tricky\n"}},
		{name: "configure json", args: []string{"--json", "--platform", "cisco_ios", "--enable", "--secret-file", secret, "--configure", ln.Addr().String(), "interface Gi0/1"},
			wantOut: []string{`"command":"configure terminal"`, `"prompt":"r1(config-if)#"`, `"command":"end"`, `"exit":0`}},
		{name: "custom prompt", args: []string{"--expect-prompt", `r1[>#]`, ln.Addr().String(), "show version"},
			wantOut: []string{"version line 30"}}, // the pager answered: no Paging command known
		{name: "wrong secret", args: []string{"--platform", "cisco_ios", "--enable", "--secret-file", filepath.Join(dir, "id.pub"), ln.Addr().String(), "show version"},
			wantCode: 1, wantOut: []string{"FAILED", "a wrong secret?"}},
		{name: "bad platform", args: []string{"--platform", "ios9000", ln.Addr().String(), "x"}, wantCode: 2},
		{name: "bad regex", args: []string{"--expect-prompt", "(", ln.Addr().String(), "x"}, wantCode: 2},
		{name: "enable without device", args: []string{"--enable", ln.Addr().String(), "x"}, wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := start(t, nil, append(base, tt.args...)...)
			if code := r.wait(t); code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tt.wantCode, r.out.String(), r.err.String())
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(r.out.String(), w) {
					t.Errorf("stdout %q lacks %q", r.out.String(), w)
				}
			}
		})
	}
}

func TestSSHForward(t *testing.T) {
	d := testutil.StartSSHD(t)
	cfg := d.Config(t, "box")
	target := testutil.Listen(t, "tcp")
	go func() {
		for {
			c, err := target.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "hello from the target\n")
			c.Close()
		}
	}()
	r := start(t, nil, "ssh", "-F", cfg, "--no-agent", "-N", "-L", "127.0.0.1:0:"+target.Addr().String(), "box")
	re := regexp.MustCompile(`-L forwarding (127\.0\.0\.1:\d+) \(here\)`)
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == ""; time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(r.err.String()); m != nil {
			addr = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no forwarding reported: %q", r.err.String())
		}
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	c.Close()
	if string(b) != "hello from the target\n" {
		t.Errorf("through -L: %q", b)
	}
	r2 := start(t, nil, "ssh", "-F", cfg, "-L", "nonsense", "box")
	if code := r2.wait(t); code != 2 {
		t.Errorf("-L nonsense: exit %d, stderr %q", code, r2.err.String())
	}
}
