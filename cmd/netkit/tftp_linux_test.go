package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/internal/testutil"
)

// TestTFTPThroughImpair: atftp fetches a file from atftpd through netkit
// impair with --follow-port (TFTP answers from a port of its own), across
// a link that loses two datagrams, lockstep and with RFC 7440 windows
// (both repaired by TFTP's own timeout, set to a second). Fixed
// ports, so inside a namespace.
func TestTFTPThroughImpair(t *testing.T) {
	atftpd := testutil.Program(t, "atftpd")
	testutil.Program(t, "atftp")
	ns := testutil.NewNetns(t)
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	data := make([]byte, 100<<10)
	rand.Read(data)
	if err := os.WriteFile(filepath.Join(dir, "blob"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := ns.Command(atftpd, "--daemon", "--no-fork", "--bind-address", "127.0.0.1", "--port", "6969", "--user", "root", "--group", "root", "--logfile", "/dev/null", dir)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	imp := ns.Command("netkit", "impair", "--listen", "udp://127.0.0.1:7070", "--to", "udp://127.0.0.1:6969",
		"--follow-port", "--drop", "3", "--drop", "40")
	var impOut bytes.Buffer
	imp.Stdout, imp.Stderr = &impOut, &impOut
	if err := imp.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { imp.Process.Signal(os.Interrupt); imp.Wait() })
	time.Sleep(300 * time.Millisecond)
	for _, opts := range [][]string{
		{"--option", "blksize 1428", "--option", "timeout 1"},
		{"--option", "blksize 1428", "--option", "timeout 1", "--option", "windowsize 16"},
	} {
		out := filepath.Join(t.TempDir(), "got")
		args := append(append([]string{"--get", "-r", "blob", "-l", out}, opts...), "127.0.0.1", "7070")
		cmd := ns.Command("atftp", args...)
		msg, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("atftp %v: %v\n%s\nimpair: %s", opts, err, msg, impOut.String())
		}
		got, _ := os.ReadFile(out)
		if !bytes.Equal(got, data) {
			t.Fatalf("atftp %v: %d bytes, not the %d served", opts, len(got), len(data))
		}
	}
}
