package mail_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/netkit-dev/netkit/internal/testutil"
	"github.com/netkit-dev/netkit/mail"
)

// serve runs a Server (SMTP and POP3) on loopback ports until the test
// ends.
func serve(t *testing.T, s *mail.Server) (smtpAddr, pop3Addr string) {
	t.Helper()
	if s.Maildir == nil {
		md, err := mail.OpenMaildir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		s.Maildir = md
	}
	sl, pl := testutil.Listen(t, "tcp4"), testutil.Listen(t, "tcp4")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- s.ServeSMTP(ctx, sl) }()
	go func() { done <- s.ServePOP3(ctx, pl) }()
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		}
	})
	return sl.Addr().String(), pl.Addr().String()
}

func TestSendAndReadBack(t *testing.T) {
	testutil.CheckLeaks(t)
	cert, pool := testutil.SelfSigned(t)
	srv := &mail.Server{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}, Users: map[string]string{"ann": "s3cret"}}
	smtpAddr, pop3Addr := serve(t, srv)
	ctx := context.Background()
	attach := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(attach, []byte("attached text\n"), 0o644)

	var wire bytes.Buffer
	msg := &mail.Message{From: "Ann <ann@example.org>", To: []string{"bob@example.net"}, Subject: "tea?",
		Body: "Tea at four?\n.\n..a line with dots\n", Attach: []string{attach}}
	res, err := mail.Send(ctx, mail.SendOptions{Server: smtpAddr, TLS: &tls.Config{RootCAs: pool}, Auth: "PLAIN", User: "ann", Password: "s3cret",
		Wire: &mail.Wire{W: &wire}}, msg, msg)
	if err != nil {
		t.Fatalf("send: %v\n%s", err, wire.String())
	}
	if res.Messages != 2 || !res.TLS || res.Auth != "PLAIN" {
		t.Errorf("result %+v", res)
	}
	w := wire.String()
	for _, want := range []string{"S: 220 ", "C: EHLO localhost", "C: STARTTLS", "C: AUTH PLAIN ****", "S: 235 ", "C: MAIL FROM:<ann@example.org>", "C: RCPT TO:<bob@example.net>", "C: QUIT"} {
		if !strings.Contains(w, want) {
			t.Errorf("the wire lacks %q:\n%s", want, w)
		}
	}
	if strings.Contains(w, "s3cret") || strings.Contains(w, "YW5u") {
		t.Errorf("the wire shows the credentials:\n%s", w)
	}
	if strings.Count(w, "S: 220 TLS") != 0 {
		t.Errorf("the wire shows the greeting go-smtp was given:\n%s", w)
	}

	p, err := mail.DialPOP3(ctx, pop3Addr, mail.POP3Options{TLS: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Login("ann", "wrong", false); err == nil {
		t.Errorf("a wrong password was taken")
	}
	if err := p.LoginPlain("ann", "wrong"); err == nil {
		t.Errorf("a wrong AUTH PLAIN was taken")
	}
	if err := p.LoginPlain("ann", "s3cret"); err != nil {
		t.Fatal(err)
	}
	n, _, err := p.Stat()
	if err != nil || n != 2 {
		t.Fatalf("STAT: %d, %v", n, err)
	}
	list, err := p.List()
	if err != nil || len(list) != 2 || list[0].UID == "" {
		t.Fatalf("LIST: %+v, %v", list, err)
	}
	var got bytes.Buffer
	if _, err := p.Retr(1, -1, &got); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Subject: tea?", "\n.\n..a line with dots\n", "Tea at four?", `filename=notes.txt`, "Return-Path: <ann@example.org>"} {
		if !strings.Contains(got.String(), want) {
			t.Errorf("the message lacks %q:\n%s", want, got.String())
		}
	}
	var top bytes.Buffer
	if _, err := p.Retr(2, 0, &top); err != nil || !strings.Contains(top.String(), "Subject: tea?") || strings.Contains(top.String(), "Tea at four") {
		t.Errorf("TOP 2 0: %v\n%s", err, top.String())
	}
	if err := p.Dele(1); err != nil {
		t.Fatal(err)
	}
	if err := p.Quit(); err != nil {
		t.Fatal(err)
	}
	left, _ := srv.Maildir.List()
	if len(left) != 1 {
		t.Errorf("%d messages left after DELE 1 and QUIT, want 1", len(left))
	}
}

func TestSendRefusals(t *testing.T) {
	srv := &mail.Server{MaxMessageBytes: 2000, MaxRecipients: 2}
	smtpAddr, _ := serve(t, srv)
	ctx := context.Background()
	no := mail.SendOptions{Server: smtpAddr, Security: mail.NoTLS}
	big := &mail.Message{From: "a@example.org", To: []string{"b@example.org"}, Body: strings.Repeat("a line of forty bytes, more or less....\n", 100)}
	_, err := mail.Send(ctx, no, big)
	var re *mail.ReplyError
	if !errors.As(err, &re) || re.Code != 552 || re.Temporary || !strings.Contains(err.Error(), "size limit") {
		t.Errorf("a message over the limit: %v", err)
	}
	long := &mail.Message{From: "a@example.org", To: []string{"b@example.org"}, Subject: "ça va", Body: strings.Repeat("x", 1500) + "\nnaïve\n"}
	if _, err := mail.Send(ctx, no, long); err != nil {
		t.Errorf("a line of 1,500 bytes and 8-bit text (quoted-printable): %v", err)
	}
	many := &mail.Message{From: "a@example.org", To: []string{"b@example.org", "c@example.org", "d@example.org"}, Body: "hi"}
	if _, err := mail.Send(ctx, no, many); !errors.As(err, &re) || re.Phase != mail.PhaseRcpt {
		t.Errorf("too many recipients: %v", err)
	}
	// STARTTLS is the default, and this server offers none.
	if _, err := mail.Send(ctx, mail.SendOptions{Server: smtpAddr}, many); err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") {
		t.Errorf("no STARTTLS: %v", err)
	}
	if _, err := mail.Send(ctx, no, &mail.Message{From: "not an address", To: []string{"b@example.org"}}); err == nil || !strings.Contains(err.Error(), `invalid From address "not an address"`) {
		t.Errorf("bad From: %v", err)
	}
	var wire bytes.Buffer
	res, err := mail.Send(ctx, mail.SendOptions{Server: smtpAddr, Security: mail.NoTLS, QuitAfter: mail.PhaseBanner, Wire: &mail.Wire{W: &wire}})
	if err != nil || res.StoppedAt != mail.PhaseBanner || strings.Contains(wire.String(), "EHLO") || !strings.Contains(wire.String(), "C: QUIT") {
		t.Errorf("--quit-after banner: %v %+v\n%s", err, res, wire.String())
	}
	if n := srv.Stats().Stored; n != 1 {
		t.Errorf("%d messages stored, want the long one alone", n)
	}
}

// swaks and Python's smtplib and poplib (the books' own examples) against
// the server.
func TestServerWithSwaksAndPython(t *testing.T) {
	swaks := testutil.Program(t, "swaks")
	py := testutil.Program(t, "python3")
	srv := &mail.Server{}
	smtpAddr, pop3Addr := serve(t, srv)
	host, port, _ := net.SplitHostPort(smtpAddr)
	out, err := exec.Command(swaks, "--server", host, "--port", port, "--from", "swaks@example.org", "--to", "a@example.org,b@example.org",
		"--header", "Subject: from swaks", "--body", "line one\n.starts with a dot\n").CombinedOutput()
	if err != nil {
		t.Fatalf("swaks: %v\n%s", err, out)
	}
	script := `
import smtplib, poplib, sys
s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]))
s.sendmail("py@example.org", ["c@example.org"], "Subject: from python\r\n\r\nHello from smtplib\r\n")
s.quit()
p = poplib.POP3(sys.argv[3], int(sys.argv[4]))
p.user("anyone"); p.pass_("anything")
count, size = p.stat()
print(count)
for i in range(1, count + 1):
    lines = p.retr(i)[1]
    subj = [l for l in lines if l.startswith(b"Subject:")]
    print(subj[0].decode(), b".starts with a dot" in lines)
p.quit()
`
	ph, pp, _ := net.SplitHostPort(pop3Addr)
	out, err = exec.Command(py, "-c", script, host, port, ph, pp).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	want := "2\nSubject: from swaks True\nSubject: from python False\n"
	if string(out) != want {
		t.Errorf("python read:\n%s\nwant:\n%s", out, want)
	}
}

func TestComposeAttachmentType(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("text"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.unknownext"), []byte{0, 1, 2}, 0o644)
	var b bytes.Buffer
	m := &mail.Message{From: "a@example.org", To: []string{"b@example.org"}, Attach: []string{filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.unknownext")}}
	if err := m.Compose(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Content-Type: text/plain; charset=utf-8\r\n", "Content-Type: application/octet-stream\r\n", `filename=b.unknownext`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
}

func TestSendPortDefaults(t *testing.T) {
	srv := &mail.Server{}
	smtpAddr, _ := serve(t, srv)
	host, port, _ := net.SplitHostPort(smtpAddr)
	n, _ := strconv.Atoi(port)
	msg := &mail.Message{From: "a@example.org", To: []string{"b@example.org"}, Body: "x"}
	res, err := mail.Send(context.Background(), mail.SendOptions{Server: host, Port: n, Security: mail.NoTLS}, msg)
	if err != nil || res.Server != smtpAddr {
		t.Errorf("host with --port: %v %+v", err, res)
	}
}
