package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/internal/testutil"
	"github.com/netkit-dev/netkit/tour"
)

var exitsComment = regexp.MustCompile(`\s+# exits (\d+).*$`)

// TestTourCommands runs the commands that each tour step prints, as a
// reader pasting them would: in order, in a directory holding the step's
// files, servers (a trailing &) in the background. Each must succeed, or
// fail with the status its comment says; a command is tried again for up
// to 5 s while the servers before it start.
func TestTourCommands(t *testing.T) {
	if _, err := exec.LookPath("netkit"); err != nil {
		t.Fatalf("netkit is not on PATH: %v", err)
	}
	for _, s := range tour.Steps() {
		t.Run(s.Name(), func(t *testing.T) {
			for _, c := range s.Commands() {
				if strings.Contains(c, strconv.Itoa(tour.TutorialPort)) && !portFree(tour.TutorialPort) {
					t.Skipf("port %d is taken on this host", tour.TutorialPort)
				}
				if strings.HasSuffix(c, "# needs root") && os.Geteuid() != 0 {
					t.Skipf("%q needs root", c)
				}
			}
			dir := t.TempDir()
			for name, body := range s.Files() {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var background []*exec.Cmd
			var bgOut []*testutil.SyncBuffer // written by exec's goroutines
			defer func() {
				for _, b := range background {
					b.Process.Signal(os.Interrupt)
					done := make(chan struct{})
					go func() { b.Wait(); close(done) }()
					select {
					case <-done:
					case <-time.After(5 * time.Second):
						b.Process.Kill()
						<-done
					}
				}
			}()
			for _, line := range s.Commands() {
				line = strings.TrimSpace(strings.TrimSuffix(line, "# needs root"))
				want := 0
				if m := exitsComment.FindStringSubmatch(line); m != nil {
					want, _ = strconv.Atoi(m[1])
					line = exitsComment.ReplaceAllString(line, "")
				}
				if bg, ok := strings.CutSuffix(strings.TrimSpace(line), "&"); ok {
					cmd := exec.Command("sh", "-c", "exec "+bg)
					cmd.Dir = dir
					out := &testutil.SyncBuffer{}
					cmd.Stdout, cmd.Stderr = out, out
					bgOut = append(bgOut, out)
					if err := cmd.Start(); err != nil {
						t.Fatal(err)
					}
					background = append(background, cmd)
					continue
				}
				var out []byte
				var got int
				for deadline := time.Now().Add(5 * time.Second); ; {
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					cmd := exec.CommandContext(ctx, "sh", "-c", line)
					cmd.Dir = dir
					var err error
					out, err = cmd.CombinedOutput()
					cancel()
					got = 0
					if ee, ok := errors.AsType[*exec.ExitError](err); ok {
						got = ee.ExitCode()
					} else if err != nil {
						t.Fatal(err)
					}
					if got == want || time.Now().After(deadline) {
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
				if got != want {
					var bgs []string
					for i, b := range background {
						bgs = append(bgs, fmt.Sprintf("[%s]: %q", b.Args[2], bgOut[i]))
					}
					t.Errorf("step %s: %q exited %d, want %d:\n%s\nwhat the servers said:\n%s", s.Name(), line, got, want, out, strings.Join(bgs, "\n"))
				}
			}
		})
	}
}

// portFree reports whether TCP and UDP port p of 127.0.0.1 can be bound.
func portFree(p int) bool {
	addr := "127.0.0.1:" + strconv.Itoa(p)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	l.Close()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return !errors.Is(err, syscall.EADDRINUSE)
	}
	pc.Close()
	return true
}
