package cli

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/internal/testutil"
)

// syncBuf is a buffer that a running command writes while the test reads.
type syncBuf = testutil.SyncBuffer

// running is netkit running in-process.
type running struct {
	out, err *syncBuf
	code     chan int
	cancel   context.CancelFunc
}

// start runs netkit in-process with stdin and returns at once; the command
// is interrupted (as by Ctrl-C) when the test ends.
func start(t *testing.T, stdin io.Reader, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{out: &syncBuf{}, err: &syncBuf{}, code: make(chan int, 1), cancel: cancel}
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	go func() {
		r.code <- Run(ctx, args, &IO{In: stdin, Out: r.out, Err: r.err, Getenv: func(string) string { return "" }})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.code:
		case <-time.After(10 * time.Second):
			t.Errorf("netkit %s did not stop when interrupted", strings.Join(args, " "))
		}
	})
	return r
}

// wait waits for the command to exit and returns its code.
func (r *running) wait(t *testing.T) int {
	t.Helper()
	select {
	case c := <-r.code:
		r.code <- c // keep it for the cleanup
		return c
	case <-time.After(20 * time.Second):
		t.Fatalf("netkit did not exit; stdout %q stderr %q", r.out.String(), r.err.String())
		return -1
	}
}

// find waits until the output matches re and returns the first submatch.
func find(t *testing.T, b *syncBuf, re string) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := rx.FindStringSubmatch(b.String()); m != nil {
			return m[len(m)-1]
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("output never matched %s: %q", re, b.String())
	return ""
}

// peer runs an external program for the test and returns its stdout (a
// pipe, first line read by the caller if wanted) after starting it; it is
// killed when the test ends.
type peer struct {
	cmd    *exec.Cmd
	stdout *bufio.Reader
	stderr *syncBuf
}

func startPeer(t *testing.T, stdin io.Reader, name string, args ...string) *peer {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = stdin
	p := &peer{cmd: cmd, stderr: &syncBuf{}}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdout = bufio.NewReader(out)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return p
}

// firstLine reads the peer's first line of output (a port, for our Python
// servers).
func (p *peer) firstLine(t *testing.T) string {
	t.Helper()
	line := make(chan string, 1)
	go func() {
		s, _ := p.stdout.ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case s := <-line:
		if s == "" {
			t.Fatalf("%s printed nothing; stderr: %s", p.cmd.Path, p.stderr.String())
		}
		return s
	case <-time.After(10 * time.Second):
		t.Fatalf("%s printed no first line", p.cmd.Path)
		return ""
	}
}
