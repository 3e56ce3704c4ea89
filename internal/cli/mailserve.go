package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/httpserve"
	"github.com/netkit-dev/netkit/mail"
	"github.com/spf13/cobra"
)

type mailServeOptions struct {
	smtp, pop3, imap, maildir, users, maxSize string
	maxRcpt                                   int
	tls                                       bool
}

func newMailServeCmd(a *app) *cobra.Command {
	var o mailServeOptions
	cmd := &cobra.Command{
		Use:   "serve [--maildir DIR]",
		Short: "A local catch-all mail server: SMTP in, POP3 and IMAP out, one Maildir",
		Long: `Takes every message sent to it over SMTP (up to --max-size and
--max-rcpt, refused with 552 and 452 beyond) and stores it in a Maildir,
which POP3 and IMAP serve (IMAP: one mailbox, INBOX; UIDs kept in the
Maildir; flags in the file names): so that netkit mail, swaks, Python's
smtplib, poplib and imaplib, or any mail client can be tried offline.
Nothing is relayed anywhere.

With --users FILE (lines of user:password) POP3, IMAP and SMTP AUTH PLAIN
take those accounts, and SMTP asks for AUTH; without it, POP3 and IMAP take
any name and password and SMTP needs no AUTH. --tls offers STARTTLS and STLS with a
certificate made on the spot. Runs until interrupted.`,
		Example: `  netkit mail serve --maildir ./Maildir &
  netkit mail send --server 127.0.0.1:2525 --no-tls --from a@example.org --to b@example.org --body hi
  NETKIT_MAIL_PASSWORD=x netkit mail list --server pop3://me@127.0.0.1:1110 --no-tls`,
		Args: noArgs,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return runMailServe(ctx, a, o)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.smtp, "smtp", "127.0.0.1:2525", "listen for SMTP on this `ADDRESS`")
	f.StringVar(&o.pop3, "pop3", "127.0.0.1:1110", "listen for POP3 on this `ADDRESS`")
	f.StringVar(&o.imap, "imap", "127.0.0.1:1143", "listen for IMAP on this `ADDRESS`")
	f.StringVar(&o.maildir, "maildir", "Maildir", "store messages in this Maildir (made if missing)")
	f.StringVar(&o.users, "users", "", "accounts, one user:password a line, in this `FILE`")
	f.StringVar(&o.maxSize, "max-size", "25M", "refuse messages larger than this (K, M: powers of 1024)")
	f.IntVar(&o.maxRcpt, "max-rcpt", 100, "refuse more recipients than this a message")
	f.BoolVar(&o.tls, "tls", false, "offer STARTTLS and STLS, with a certificate made now")
	return cmd
}

func runMailServe(ctx context.Context, a *app, o mailServeOptions) error {
	size, err := parseSize("--max-size", o.maxSize, 1024)
	if err != nil {
		return err
	}
	if o.maxRcpt < 1 {
		return usageError("invalid --max-rcpt %d: at least 1", o.maxRcpt)
	}
	md, err := mail.OpenMaildir(o.maildir)
	if err != nil {
		return inputError(fmt.Errorf("--maildir: %w", err))
	}
	srv := &mail.Server{Maildir: md, MaxMessageBytes: int64(size), MaxRecipients: o.maxRcpt, Logger: a.logger()}
	if o.users != "" {
		if srv.Users, err = readUsers(o.users); err != nil {
			return err
		}
	}
	if o.tls {
		c, err := httpserve.SelfSigned(0, "localhost", "127.0.0.1", "::1")
		if err != nil {
			return err
		}
		fmt.Fprintf(a.io.Err, "netkit: a certificate made now, SHA-256 fingerprint %s\n", c.Fingerprint)
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{c.TLS}}
	}
	errs := make(chan error, 3)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	started := 0
	for _, l := range []struct {
		addr  string
		serve func(context.Context, net.Listener) error
		name  string
	}{{o.smtp, srv.ServeSMTP, "SMTP"}, {o.pop3, srv.ServePOP3, "POP3"}, {o.imap, srv.ServeIMAP, "IMAP"}} {
		e, err := parseEndpoint(l.addr)
		if err != nil {
			return err
		}
		ln, err := endpoint.Listen(ctx, e)
		if err != nil {
			return fmt.Errorf("listen %s: %w", e, err)
		}
		fmt.Fprintf(a.io.Err, "netkit: %s on %s\n", l.name, ln.Addr())
		started++
		go func() { errs <- l.serve(ctx, ln) }()
	}
	fmt.Fprintf(a.io.Err, "netkit: storing mail in %s\n", md.Dir)
	for range started {
		if e := <-errs; e != nil && err == nil {
			err = e
			cancel() // one failed: stop the other
		}
	}
	fmt.Fprintf(a.io.Err, "%d messages stored\n", srv.Stats().Stored)
	return err
}

// readUsers reads --users.
func readUsers(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, inputError(fmt.Errorf("--users: %w", err))
	}
	defer f.Close()
	users, err := mail.ReadUsers(f)
	if err != nil {
		return nil, inputError(fmt.Errorf("--users %s: %w", path, err))
	}
	return users, nil
}
