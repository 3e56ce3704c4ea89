package tour

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/netkit-dev/netkit/mail"
)

// mailStep: e-mail is three text dialogues over TCP: SMTP to send, POP3
// (or IMAP) to read.
type mailStep struct{}

func (mailStep) Name() string  { return "mail" }
func (mailStep) Layer() string { return "application" }
func (mailStep) Idea() string {
	return "e-mail is text dialogues over TCP: SMTP carries a message to a server, which stores it; POP3 reads it back, command by command"
}
func (mailStep) Commands() []string {
	return []string{
		"netkit mail serve --maildir tour-mail --smtp 127.0.0.1:12345 --pop3 127.0.0.1:12346 --imap 127.0.0.1:12347 &",
		"netkit mail send --server 127.0.0.1:12345 --no-tls --from ann@example.org --to bob@example.org --subject tea --body 'Tea at four?' --wire",
		"NETKIT_MAIL_PASSWORD=any netkit mail list --server pop3://bob@127.0.0.1:12346 --no-tls",
		"NETKIT_MAIL_PASSWORD=any netkit mail fetch --server pop3://bob@127.0.0.1:12346 --no-tls 1",
	}
}
func (mailStep) Files() map[string]string { return nil }

func (mailStep) Run(ctx context.Context, w io.Writer, e *Env) error {
	dir, err := os.MkdirTemp("", "netkit-tour-mail")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	md, err := mail.OpenMaildir(dir)
	if err != nil {
		return err
	}
	srv := &mail.Server{Maildir: md, Domain: "tour.example"}
	sl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		sl.Close()
		return err
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 2)
	go func() { done <- srv.ServeSMTP(sctx, sl) }()
	go func() { done <- srv.ServePOP3(sctx, pl) }()
	defer func() { stop(); <-done; <-done }()

	say(w, "netkit's mail server takes SMTP on %s and serves POP3 on %s, over one Maildir. The client sends a message; every line of the dialogue (C: client, S: server):", sl.Addr(), pl.Addr())
	var wire bytes.Buffer
	msg := &mail.Message{From: "ann@example.org", To: []string{"bob@example.org"}, Subject: "tea", Body: "Tea at four?\n"}
	if _, err := mail.Send(ctx, mail.SendOptions{Server: sl.Addr().String(), Security: mail.NoTLS, HelloName: "tour.client", Wire: &mail.Wire{W: &wire}}, msg); err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimRight(wire.String(), "\n"), "\n") {
		// The times are the reader's own; the dialogue is the point.
		if i := strings.Index(line, " ms "); i >= 0 {
			line = line[i+4:]
		}
		if strings.HasPrefix(line, "S: 250-") && !strings.HasPrefix(line, "S: 250-Hello") {
			continue // the extensions the server offers, one a line
		}
		fmt.Fprintf(w, "  %s\n", line)
	}
	say(w, "MAIL FROM and RCPT TO are the envelope; the From: and To: headers are only text inside the message. The lone dot ends it.")

	wire.Reset()
	p, err := mail.DialPOP3(ctx, pl.Addr().String(), mail.POP3Options{Security: mail.NoTLS, Wire: &mail.Wire{W: &wire}})
	if err != nil {
		return err
	}
	defer p.Close()
	if err := p.Login("bob", "tour", false); err != nil {
		return err
	}
	n, size, err := p.Stat()
	if err != nil {
		return err
	}
	var body bytes.Buffer
	if _, err := p.Retr(1, 0, &body); err != nil {
		return err
	}
	if err := p.Quit(); err != nil {
		return err
	}
	say(w, "Bob's mail client reads it over POP3 (the password is masked):")
	for _, line := range strings.Split(strings.TrimRight(wire.String(), "\n"), "\n") {
		if i := strings.Index(line, " ms "); i >= 0 {
			line = line[i+4:]
		}
		if strings.HasPrefix(line, "S: ") && !strings.HasPrefix(line, "S: +OK") && !strings.HasPrefix(line, "S: -ERR") && !strings.HasPrefix(line, "S: Subject") && !strings.HasPrefix(line, "S: From") {
			continue // the capability list and most header lines
		}
		fmt.Fprintf(w, "  %s\n", line)
	}
	say(w, "STAT said %d message of %d bytes; TOP 1 0 fetched its header alone. The server added Return-Path and Received: the envelope, written down.", n, size)
	if n != 1 {
		return fmt.Errorf("the mailbox holds %d messages, not 1", n)
	}
	return nil
}
