package remote_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/internal/testutil"
	"github.com/netkit-dev/netkit/remote"
	"golang.org/x/crypto/ssh"
)

// deviceServer starts remote.Server with the fake router and returns
// options that reach it.
func deviceServer(t *testing.T) (string, remote.Options) {
	t.Helper()
	dir := t.TempDir()
	key := testutil.KeyPair(t, filepath.Join(dir, "id"))
	srv := &remote.Server{AuthorizedKeys: []ssh.PublicKey{key.PublicKey()}, Shell: testutil.FakeRouter,
		Exec: remote.ShellExec, SFTPRoot: dir}
	ln := testutil.Listen(t, "tcp")
	testutil.Serve(t, func(ctx context.Context) error { return srv.Serve(ctx, ln) })
	ctx := context.Background()
	// Serve made the host key; wait for it through a first handshake.
	o := remote.Options{ConfigFile: "none", Identities: []string{filepath.Join(dir, "id")}, NoAgent: true,
		KnownHosts: []string{filepath.Join(dir, "known_hosts")}, HostKeys: remote.AcceptNew, User: "admin"}
	c, err := remote.Dial(ctx, ln.Addr().String(), o)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	o.HostKeys = remote.Strict
	return ln.Addr().String(), o
}

func TestDevice(t *testing.T) {
	addr, o := deviceServer(t)
	ctx := context.Background()
	c := dial(t, addr, o)
	d, err := c.OpenDevice(ctx, remote.Platforms["cisco_ios"])
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	r, err := d.Send(ctx, "show version")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(r.Output, "\n")
	if len(lines) != 30 || lines[0] != "version line 1" || lines[29] != "version line 30" || r.Prompt != "r1>" {
		t.Errorf("show version: %d lines %q, prompt %q", len(lines), r.Output, r.Prompt)
	}
	r, err = d.Send(ctx, "show tricky")
	if err != nil {
		t.Fatal(err)
	}
	if want := "first\nr1#\nr1(config)# is only text\nend of tricky"; r.Output != want || r.Prompt != "r1>" {
		t.Errorf("show tricky: output %q prompt %q; want %q and r1>", r.Output, r.Prompt, want)
	}
	r, _ = d.Send(ctx, "show nonsense")
	if !strings.Contains(r.Output, "% Invalid input") {
		t.Errorf("an invalid command: %q", r.Output)
	}
	if _, err := d.Enable(ctx, "wrong"); err == nil {
		t.Error("enable with a wrong secret succeeded")
	}
	if _, err := d.Enable(ctx, "cisco"); err != nil {
		t.Fatal(err)
	}
	replies, err := d.Configure(ctx, []string{"interface Gi0/1", "description uplink"})
	if err != nil {
		t.Fatal(err)
	}
	var prompts []string
	for _, r := range replies {
		prompts = append(prompts, r.Prompt)
	}
	if got := strings.Join(prompts, " "); got != "r1(config)# r1(config-if)# r1(config-if)# r1#" {
		t.Errorf("configuration prompts: %s", got)
	}
}

func TestDevicePager(t *testing.T) {
	addr, o := deviceServer(t)
	ctx := context.Background()
	c := dial(t, addr, o)
	p := remote.Platforms["cisco_ios"]
	p.Paging = "" // leave the pager on: --More-- must be answered
	d, err := c.OpenDevice(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r, err := d.Send(ctx, "show version")
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(r.Output, "\n"); len(lines) != 30 || lines[10] != "version line 11" || strings.Contains(r.Output, "More") {
		t.Errorf("show version through the pager: %q", r.Output)
	}
}

func TestDeviceTimeout(t *testing.T) {
	// A device that never shows a prompt.
	pr, pw := io.Pipe()
	_, w := io.Pipe()
	defer pw.Close()
	d := remote.NewDevice(pr, w, remote.Platforms["cisco_ios"])
	d.Wait = 200 * time.Millisecond
	go io.WriteString(pw, "login banner, then nothing\r\n")
	err := d.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no prompt") {
		t.Errorf("Start without a prompt: %v", err)
	}
}

func TestServerExecAndSFTP(t *testing.T) {
	testutil.CheckLeaks(t)
	addr, o := deviceServer(t)
	c := dial(t, addr, o)
	var out strings.Builder
	err := c.Run(context.Background(), remote.Command{Line: "echo served; exit 5", Stdout: &out})
	if ee, ok := err.(*remote.ExitError); !ok || ee.Status != 5 || out.String() != "served\n" {
		t.Errorf("exec on remote.Server: %v %q", err, out.String())
	}
	s, err := c.SFTP(remote.SFTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	local := filepath.Join(t.TempDir(), "x")
	os.WriteFile(local, []byte("moved"), 0o644)
	if _, err := s.Put(context.Background(), local, "x.txt", remote.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	if list, err := s.List("."); err != nil || len(list) == 0 {
		t.Errorf("List: %v %v", list, err)
	}
}

// A host that logs in and then never finishes the command: --host-timeout
// ends it, and the others are not held up.
func TestRunAllStallAfterAuth(t *testing.T) {
	dir := t.TempDir()
	key := testutil.KeyPair(t, filepath.Join(dir, "id"))
	srv := &remote.Server{AuthorizedKeys: []ssh.PublicKey{key.PublicKey()},
		Exec: func(ctx context.Context, cmd string, _ io.Reader, stdout, _ io.Writer) int {
			if cmd == "stall" {
				<-ctx.Done()
			}
			io.WriteString(stdout, "done\n")
			return 0
		}}
	ln := testutil.Listen(t, "tcp")
	testutil.Serve(t, func(ctx context.Context) error { return srv.Serve(ctx, ln) })
	o := remote.RunAllOptions{Options: remote.Options{ConfigFile: "none", Identities: []string{filepath.Join(dir, "id")}, NoAgent: true,
		KnownHosts: []string{filepath.Join(dir, "known_hosts")}, HostKeys: remote.AcceptNew}, Timeout: time.Second}
	var got []remote.Result
	start := time.Now()
	failed := remote.RunAll(context.Background(), []string{ln.Addr().String()}, "stall", o, func(r remote.Result) { got = append(got, r) })
	if failed != 1 || len(got) != 1 || !strings.Contains(got[0].Error, "timed out after 1s") {
		t.Fatalf("a stalled command: %d failed, %+v", failed, got)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the stalled host held RunAll for %v", d)
	}
}
