package tour

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/netkit-dev/netkit/ftp"
	"github.com/netkit-dev/netkit/remote"
	"golang.org/x/crypto/ssh"
)

// remoteStep: running commands and moving files on another machine,
// over SSH (encrypted, the host checked by its key) and over FTP (a
// control connection and a data connection per transfer).
type remoteStep struct{}

func (remoteStep) Name() string  { return "remote" }
func (remoteStep) Layer() string { return "application" }
func (remoteStep) Idea() string {
	return "remote systems: SSH runs a command far away and hands back its output and exit status; SFTP and FTP move files, FTP with a second connection for the data"
}
func (remoteStep) Commands() []string {
	auth := "-i tour-key --known-hosts tour-known-hosts"
	return []string{
		"netkit sshd -l 127.0.0.1:12345 --client-key-out tour-key --known-hosts-out tour-known-hosts &",
		"netkit ssh " + auth + " -p 12345 127.0.0.1 -- 'echo hello from the far side; exit 3'  # exits 3",
		"netkit sftp put " + auth + " -P 12345 note.txt 127.0.0.1:note-copy.txt",
		"netkit sftp ls " + auth + " -P 12345 127.0.0.1:",
		"netkit ftp serve -l 127.0.0.1:12346 . &",
		"netkit ftp get --wire ftp://127.0.0.1:12346/note-copy.txt note-back.txt",
	}
}
func (remoteStep) Files() map[string]string {
	return map[string]string{"note.txt": "moved over SFTP, fetched back over FTP\n"}
}

func (remoteStep) Run(ctx context.Context, w io.Writer, e *Env) error {
	dir, err := os.MkdirTemp("", "netkit-tour-remote")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	signer, pemKey, err := remote.NewKey()
	if err != nil {
		return err
	}
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, pemKey, 0o600); err != nil {
		return err
	}
	files := filepath.Join(dir, "files")
	if err := os.Mkdir(files, 0o755); err != nil {
		return err
	}
	srv := &remote.Server{AuthorizedKeys: []ssh.PublicKey{signer.PublicKey()}, SFTPRoot: files,
		Exec: func(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
			// The tour runs no shell: this "far side" knows one command.
			if cmd != "uptime-of-the-far-side" {
				fmt.Fprintf(stderr, "%s: command not found\n", cmd)
				return 127
			}
			io.WriteString(stdout, "up, and answering over SSH\n")
			return 0
		}}
	sshLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ftpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		sshLn.Close()
		return err
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 2)
	go func() { done <- srv.Serve(sctx, sshLn) }()
	go func() { done <- (&ftp.Server{Root: files}).Serve(sctx, ftpLn) }()
	defer func() { stop(); <-done; <-done }()

	known := filepath.Join(dir, "known_hosts")
	line, err := srv.KnownHostsLine(sshLn.Addr().String())
	if err != nil {
		return err
	}
	if err := os.WriteFile(known, []byte(line+"\n"), 0o600); err != nil {
		return err
	}
	fp := strings.Fields(line)
	say(w, "An SSH server listens on %s. The client knows its host key from known_hosts (%s %.20s...), so a server with another key would be refused before any password or key is offered.", sshLn.Addr(), fp[1], fp[2])
	o := remote.Options{ConfigFile: "none", Identities: []string{keyFile}, KnownHosts: []string{known}, NoAgent: true, User: "tour"}
	c, err := remote.Dial(ctx, sshLn.Addr().String(), o)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, cmd := range []string{"uptime-of-the-far-side", "rm -rf /"} {
		var out, errb bytes.Buffer
		err := c.Run(ctx, remote.Command{Line: cmd, Stdout: &out, Stderr: &errb})
		status := 0
		var ee *remote.ExitError
		if errors.As(err, &ee) {
			status = ee.Status
		} else if err != nil {
			return err
		}
		say(w, "  $ %s\n  %s  (exit status %d, carried back in the channel's exit-status message)", cmd, strings.TrimSpace(out.String()+errb.String()), status)
	}

	s, err := c.SFTP(remote.SFTPOptions{})
	if err != nil {
		return err
	}
	defer s.Close()
	note := filepath.Join(dir, "note.txt")
	os.WriteFile(note, []byte("moved over SFTP, fetched back over FTP\n"), 0o644)
	st, err := s.Put(ctx, note, "note.txt", remote.TransferOptions{})
	if err != nil {
		return err
	}
	say(w, "SFTP runs inside the same encrypted connection, in a channel of its own: %d file, %d bytes sent, written as note.txt%s and renamed when whole.", st.Files, st.Bytes, remote.PartSuffix)

	var wire bytes.Buffer
	fc, err := ftp.Dial(ctx, ftpLn.Addr().String(), ftp.Options{Wire: func(dir, line string) { fmt.Fprintf(&wire, "  %s: %s\n", dir, line) }})
	if err != nil {
		return err
	}
	back := filepath.Join(dir, "back.txt")
	if _, err := fc.Get(ctx, "note.txt", back, ftp.TransferOptions{}); err != nil {
		fc.Close()
		return err
	}
	fc.Quit()
	say(w, "FTP fetches it back from an FTP server on %s. The control connection carries commands and replies in the clear (C: client, S: server); EPSV names a port for a second connection that carries the bytes:", ftpLn.Addr())
	for _, l := range strings.SplitAfter(wire.String(), "\n") {
		if strings.HasPrefix(l, "  S: 211-") { // the feature list
			continue
		}
		io.WriteString(w, l)
	}
	got, err := os.ReadFile(back)
	if err != nil || string(got) != "moved over SFTP, fetched back over FTP\n" {
		return fmt.Errorf("the file came back as %q (%v)", got, err)
	}
	return nil
}
