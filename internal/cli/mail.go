package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/netkit-dev/netkit/httpwire"
	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/mail"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newMailCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "mail",
		Short:   "E-mail: send over SMTP, read over POP3, and a local mail server",
		GroupID: groupApplication,
		Args:    noArgs,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return usageError("netkit mail needs a subcommand: send, count, list, fetch, delete or serve")
		}),
	}
	cmd.AddCommand(newMailSendCmd(a), newMailServeCmd(a))
	cmd.AddCommand(newMailReadCmds(a)...)
	return cmd
}

// tlsFlags are --cacert and --insecure, for the mail clients.
type tlsFlags struct {
	cacert   string
	insecure bool
}

func (f *tlsFlags) config() (*tls.Config, error) {
	cfg, err := httpwire.TLSFiles(f.insecure, f.cacert)
	if err != nil {
		return nil, inputError(err)
	}
	return cfg, nil
}

// password reads a secret from the file, the environment variable (if
// env is not empty), or the terminal, never from a flag's value.
func (a *app) password(env, file, prompt string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", inputError(fmt.Errorf("--password-file: %w", err))
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if env != "" {
		if v := a.io.getenv(env); v != "" {
			return v, nil
		}
	}
	f, ok := a.io.In.(*os.File)
	if !ok || !a.io.InTTY {
		return "", usageError("a password is needed: set %s, give --password-file, or run on a terminal to be asked", env)
	}
	fmt.Fprint(a.io.Err, prompt)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(a.io.Err)
	return string(b), err
}

type mailSendOptions struct {
	msg          mail.Message
	server       string
	port         int
	tlsMode      struct{ starttls, implicit, none bool }
	auth, user   string
	passwordFile string
	headers      []string
	body         string
	dryRun, wire bool
	quitAfter    string
	count        int
	tls          tlsFlags
}

func newMailSendCmd(a *app) *cobra.Command {
	var o mailSendOptions
	cmd := &cobra.Command{
		Use:   "send --to ADDR --from ADDR [flags]",
		Short: "Send a message over SMTP, showing the dialogue with --wire (swaks's job)",
		Long: `Composes a message (MIME, with attachments) and submits it over SMTP: to
--server, or to the MX hosts of the first recipient's domain in preference
order. STARTTLS is required unless --tls (implicit TLS, port 465) or
--no-tls says otherwise. --auth PLAIN, LOGIN, CRAM-MD5 or XOAUTH2 logs in as --user,
with the password from NETKIT_MAIL_PASSWORD, --password-file or a prompt:
never from a flag, which the process list would show.

--wire shows the dialogue, each line with its direction and time,
credentials masked; --quit-after stops after a phase (connect, banner,
ehlo, tls, auth, mail, rcpt) to test a server; --count sends N copies on
one connection; --dry-run prints the message instead. A refusal names the
phase and the reply; a 4xx reply says the send may succeed later. Exits 1
when the server refuses, 2 for bad input.`,
		Example: `  netkit mail send --server 127.0.0.1:2525 --no-tls --from ann@example.org --to bob@example.org --subject hi --body 'Tea at four?'
  NETKIT_MAIL_PASSWORD=... netkit mail send --server smtp.example.org:587 --auth PLAIN --user ann --from ann@example.org --to bob@example.net --body @note.txt --attach report.pdf
  netkit mail send --server 127.0.0.1:2525 --no-tls --quit-after rcpt --wire --from a@example.org --to b@example.org`,
		Args: noArgs,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return runMailSend(ctx, a, o)
		}),
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.msg.To, "to", nil, "a recipient (repeatable, or comma-separated)")
	f.StringArrayVar(&o.msg.Cc, "cc", nil, "a copy recipient (repeatable)")
	f.StringVar(&o.msg.From, "from", "", "the sender")
	f.StringVar(&o.msg.Subject, "subject", "", "the subject")
	f.StringVar(&o.body, "body", "", "the text: a string, @FILE, or - for stdin")
	f.StringArrayVar(&o.headers, "header", nil, "add a header, 'Name: value' (repeatable)")
	f.StringArrayVar(&o.msg.Attach, "attach", nil, "attach this `FILE` (repeatable)")
	f.StringVar(&o.server, "server", "", "the SMTP server, HOST[:PORT] (default: the recipient domain's MX hosts)")
	f.IntVar(&o.port, "port", 0, "the port, when --server gives none (default 25; 465 with --tls)")
	f.BoolVar(&o.tlsMode.starttls, "starttls", false, "upgrade with STARTTLS, and fail without it (the default)")
	f.BoolVar(&o.tlsMode.implicit, "tls", false, "implicit TLS from the first byte (SMTPS, port 465)")
	f.BoolVar(&o.tlsMode.none, "no-tls", false, "send in the clear, without STARTTLS")
	f.StringVar(&o.auth, "auth", "", "log in with PLAIN, LOGIN, CRAM-MD5 or XOAUTH2 (the password is then the access token)")
	f.StringVar(&o.user, "user", "", "the user for --auth")
	f.StringVar(&o.passwordFile, "password-file", "", "read the password from this `FILE` (else NETKIT_MAIL_PASSWORD or a prompt)")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the message, send nothing")
	f.BoolVar(&o.wire, "wire", false, "show the dialogue on stderr")
	f.StringVar(&o.quitAfter, "quit-after", "", "stop after this phase: connect, banner, ehlo, tls, auth, mail or rcpt")
	f.IntVar(&o.count, "count", 1, "send this many copies on one connection")
	f.StringVar(&o.tls.cacert, "cacert", "", "trust the CA certificates in this PEM `FILE`")
	f.BoolVarP(&o.tls.insecure, "insecure", "k", false, "do not verify the server's certificate")
	return cmd
}

func runMailSend(ctx context.Context, a *app, o mailSendOptions) error {
	var to []string
	for _, t := range o.msg.To {
		for _, s := range strings.Split(t, ",") {
			if s = strings.TrimSpace(s); s != "" {
				to = append(to, s)
			}
		}
	}
	o.msg.To = to
	for _, h := range o.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			return usageError("invalid --header %q: 'Name: value'", h)
		}
		o.msg.Header = append(o.msg.Header, [2]string{strings.TrimSpace(name), strings.TrimSpace(value)})
	}
	body, err := readBodyArg(a, o.body)
	if err != nil {
		return err
	}
	o.msg.Body = body
	if o.count < 1 {
		return usageError("invalid --count %d: at least 1", o.count)
	}
	so := mail.SendOptions{Server: o.server, Port: o.port, Auth: o.auth, User: o.user}
	if o.port < 0 || o.port > 65535 {
		return usageError("invalid --port %d: ports are 1-65535", o.port)
	}
	switch {
	case o.tlsMode.implicit && o.tlsMode.none, o.tlsMode.starttls && (o.tlsMode.implicit || o.tlsMode.none):
		return usageError("--starttls, --tls and --no-tls exclude each other")
	case o.tlsMode.implicit:
		so.Security = mail.ImplicitTLS
	case o.tlsMode.none:
		so.Security = mail.NoTLS
	}
	if o.quitAfter != "" {
		if so.QuitAfter, err = mail.ParsePhase(o.quitAfter); err != nil {
			return usageError("--quit-after: %v", err)
		}
	}
	if o.dryRun {
		var b bytes.Buffer
		if err := o.msg.Compose(&b); err != nil {
			return inputError(err)
		}
		_, err := a.io.Out.Write(bytes.ReplaceAll(b.Bytes(), []byte("\r\n"), []byte("\n")))
		return err
	}
	if err := o.msg.Compose(io.Discard); err != nil {
		return inputError(err)
	}
	if (o.auth == "") != (o.user == "") {
		return usageError("--auth and --user go together")
	}
	if o.auth != "" {
		if so.Password, err = a.password("NETKIT_MAIL_PASSWORD", o.passwordFile, "password for "+o.user+": "); err != nil {
			return err
		}
	}
	if so.TLS, err = o.tls.config(); err != nil {
		return err
	}
	if o.wire {
		so.Wire = &mail.Wire{W: a.io.Err}
	}
	msgs := make([]*mail.Message, o.count)
	for i := range msgs {
		msgs[i] = &o.msg
	}
	res, err := mail.Send(ctx, so, msgs...)
	if err != nil {
		return err
	}
	return a.render(sendView{res})
}

type sendView struct{ *mail.Result }

func (v sendView) writeHuman(w io.Writer, st textui.Style) error {
	how := "in the clear"
	if v.TLS {
		how = "over TLS"
	}
	if v.Auth != "" {
		how += ", AUTH " + v.Auth
	}
	if v.StoppedAt != "" {
		_, err := fmt.Fprintf(w, "stopped after %s at %s (%s)\n", v.StoppedAt, v.Server, how)
		return err
	}
	fmt.Fprintf(w, "sent %d message%s (%d bytes) to %d recipient%s through %s (%s)\n", v.Messages, plural(v.Messages), v.Bytes, v.Recipients, plural(v.Recipients), v.Server, how)
	for _, r := range v.Replies {
		fmt.Fprintf(w, "  %s\n", r)
	}
	return nil
}

// readBodyArg reads --body: a string, @FILE, or - for stdin.
func readBodyArg(a *app, s string) (string, error) {
	switch {
	case s == "-":
		b, err := io.ReadAll(a.io.In)
		return string(b), err
	case strings.HasPrefix(s, "@"):
		b, err := os.ReadFile(s[1:])
		if err != nil {
			return "", inputError(fmt.Errorf("--body: %w", err))
		}
		return string(b), nil
	}
	return s, nil
}
