package cli

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/mail"
	"github.com/spf13/cobra"
)

type mailReadOptions struct {
	server       string
	search       string
	since        string
	noTLS, apop  bool
	saslPlain    bool
	folder       string
	passwordFile string
	wire         bool
	tls          tlsFlags
}

func (o *mailReadOptions) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.server, "server", "", "the mailbox: pop3://USER@HOST[:PORT] (STLS), pop3s://..., imap://USER@HOST[:PORT][/FOLDER] (STARTTLS) or imaps://...")
	f.BoolVar(&o.noTLS, "no-tls", false, "with pop3:// or imap://, read in the clear, without STLS or STARTTLS")
	f.StringVar(&o.search, "search", "", "IMAP: only messages whose text holds this (server-side SEARCH)")
	f.StringVar(&o.since, "since", "", "IMAP: only messages from this `DATE` (2006-01-02) on")
	f.BoolVar(&o.apop, "apop", false, "POP3: log in with APOP (a digest) instead of USER and PASS")
	f.BoolVar(&o.saslPlain, "sasl-plain", false, "POP3: log in with AUTH PLAIN instead of USER and PASS")
	f.StringVar(&o.folder, "folder", "", "IMAP: read this folder (default INBOX; the URL's path says the same)")
	f.StringVar(&o.passwordFile, "password-file", "", "read the password from this `FILE` (else NETKIT_MAIL_PASSWORD or a prompt)")
	f.BoolVar(&o.wire, "wire", false, "show the dialogue on stderr")
	f.StringVar(&o.tls.cacert, "cacert", "", "trust the CA certificates in this PEM `FILE`")
	f.BoolVarP(&o.tls.insecure, "insecure", "k", false, "do not verify the server's certificate")
}

// open logs in to the mailbox.
func (o *mailReadOptions) open(ctx context.Context, a *app) (mail.Box, error) {
	if o.server == "" {
		return nil, usageError("--server is needed: pop3://USER@HOST, imaps://USER@HOST, ...")
	}
	mb, err := mail.ParseMailbox(o.server)
	if err != nil {
		return nil, inputError(err)
	}
	if o.folder != "" && mb.Folder != "" && o.folder != mb.Folder {
		return nil, usageError("--folder %q and the URL's folder %q differ", o.folder, mb.Folder)
	}
	mb.Folder = cmp.Or(o.folder, mb.Folder)
	bo := mail.BoxOptions{NoTLS: o.noTLS, APOP: o.apop, SASLPlain: o.saslPlain, Search: o.search}
	if o.since != "" {
		if bo.Since, err = time.Parse("2006-01-02", o.since); err != nil {
			return nil, usageError("invalid --since %q: a date, 2006-01-02", o.since)
		}
	}
	if err := bo.Check(mb); err != nil { // before the password is asked for
		return nil, usageError("%v", err)
	}
	if bo.TLS, err = o.tls.config(); err != nil {
		return nil, err
	}
	if o.wire {
		bo.Wire = &mail.Wire{W: a.io.Err}
	}
	pass, err := a.password("NETKIT_MAIL_PASSWORD", o.passwordFile, "password for "+mb.User+": ")
	if err != nil {
		return nil, err
	}
	return mail.OpenBox(ctx, mb, pass, bo)
}

// confirm asks a yes/no question on a terminal; elsewhere the answer is
// no.
func (a *app) confirm(question string) bool {
	if !a.io.InTTY || !a.io.ErrTTY {
		return false
	}
	fmt.Fprint(a.io.Err, question)
	line, _ := bufio.NewReader(a.io.In).ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}

// with opens the mailbox, runs fn, and ends the session: QUIT (or
// LOGOUT) when fn succeeded, a dropped connection when it failed, so
// that nothing marked deleted goes.
func (o *mailReadOptions) with(ctx context.Context, a *app, fn func(mail.Box) error) error {
	p, err := o.open(ctx, a)
	if err != nil {
		return err
	}
	if err := fn(p); err != nil {
		p.Close()
		return err
	}
	return p.Quit()
}

func newMailReadCmds(a *app) []*cobra.Command {
	var o mailReadOptions
	count := &cobra.Command{
		Use:     "count --server pop3://USER@HOST",
		Short:   "How many messages a mailbox holds, and their size (POP3 STAT, IMAP FETCH RFC822.SIZE)",
		Example: "  NETKIT_MAIL_PASSWORD=... netkit mail count --server pop3s://ann@mail.example.org",
		Args:    noArgs,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			var v countView
			err := o.with(ctx, a, func(p mail.Box) (err error) {
				v.Messages, v.Bytes, err = p.Count()
				return err
			})
			if err != nil {
				return err
			}
			return a.render(v)
		}),
	}
	list := &cobra.Command{
		Use:   "list --server pop3://USER@HOST",
		Short: "List the messages of a mailbox: id, uid, size, date, from, to, subject (flags over IMAP)",
		Long: `Lists each message with what its header says (POP3: read with TOP n 0; IMAP:
the ENVELOPE), as a table, or as one JSON document a message (NDJSON) with
--json. Over IMAP, --search and --since narrow the list on the server.`,
		Example: "  netkit mail list --server pop3://ann@127.0.0.1:1110 --no-tls --json",
		Args:    noArgs,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			var sums []mail.Summary
			err := o.with(ctx, a, func(p mail.Box) (err error) {
				sums, err = p.Summarize()
				return err
			})
			if err != nil {
				return err
			}
			if a.json {
				for _, s := range sums {
					if err := a.emit(summaryLine{s}); err != nil {
						return err
					}
				}
				return nil
			}
			return a.render(summaryView(sums))
		}),
	}
	var out string
	var all, headersOnly, yes bool
	fetch := &cobra.Command{
		Use:   "fetch --server pop3://USER@HOST (ID... | --all)",
		Short: "Fetch messages to stdout, an mbox file or a Maildir",
		Long: `Fetches the messages named by their ids (from netkit mail list), or every
one with --all: to stdout, or with --out to a Maildir (a directory) or an
mbox file (appended to). --headers-only fetches the headers (TOP n 0).
Nothing is deleted.`,
		Example: "  netkit mail fetch --server pop3://ann@127.0.0.1:1110 --no-tls --all --out ./Maildir",
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			ids, err := messageIDs(args, all)
			if err != nil {
				return err
			}
			return o.with(ctx, a, func(p mail.Box) (err error) {
				if all {
					if ids, err = p.IDs(); err != nil {
						return err
					}
				}
				return fetchTo(a, p, ids, headersOnly, out)
			})
		}),
	}
	fetch.Flags().StringVarP(&out, "out", "o", "", "write to this Maildir (a directory) or mbox file")
	fetch.Flags().BoolVar(&all, "all", false, "fetch every message")
	fetch.Flags().BoolVar(&headersOnly, "headers-only", false, "fetch only the headers")
	del := &cobra.Command{
		Use:     "delete --server pop3://USER@HOST ID...",
		Short:   "Delete messages (POP3 DELE then QUIT; IMAP \\Deleted then EXPUNGE)",
		Example: "  netkit mail delete --server pop3://ann@127.0.0.1:1110 --no-tls 1 2 --yes",
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			ids, err := messageIDs(args, false)
			if err != nil {
				return err
			}
			if !yes && !a.confirm(fmt.Sprintf("delete message%s %v from %s? [y/N] ", plural(len(ids)), ids, o.server)) {
				return usageError("deleting cannot be undone: add --yes (or answer y on a terminal) to delete message%s %v", plural(len(ids)), ids)
			}
			err = o.with(ctx, a, func(p mail.Box) error {
				for _, id := range ids {
					if err := p.Delete(id); err != nil {
						return err // the session is dropped: nothing is deleted
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.io.Err, "deleted %d message%s\n", len(ids), plural(len(ids)))
			return nil
		}),
	}
	del.Flags().BoolVar(&yes, "yes", false, "delete without asking")
	for _, c := range []*cobra.Command{count, list, fetch, del} {
		o.flags(c)
	}
	return []*cobra.Command{count, list, fetch, del}
}

func messageIDs(args []string, all bool) ([]int, error) {
	if all == (len(args) > 0) {
		return nil, usageError("give message ids, or --all")
	}
	var ids []int
	for _, s := range args {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, usageError("invalid message id %q: a number from netkit mail list", s)
		}
		ids = append(ids, n)
	}
	return ids, nil
}

// fetchTo writes the messages to stdout, a Maildir or an mbox.
func fetchTo(a *app, p mail.Box, ids []int, headersOnly bool, out string) error {
	dest := mail.WriterDestination(a.io.Out)
	if out != "" {
		var err error
		if dest, err = mail.OpenDestination(out); err != nil {
			return err
		}
		defer dest.Close()
	}
	err := p.FetchEach(ids, headersOnly, func(_ int, r io.Reader) error { return dest.Deliver(r) })
	if err != nil {
		return err
	}
	if out != "" {
		fmt.Fprintf(a.io.Err, "fetched %d message%s to %s\n", len(ids), plural(len(ids)), out)
	}
	return dest.Close()
}

type countView struct {
	Messages int   `json:"messages"`
	Bytes    int64 `json:"bytes"`
}

func (v countView) writeHuman(w io.Writer, _ textui.Style) error {
	_, err := fmt.Fprintf(w, "%d message%s, %d bytes\n", v.Messages, plural(v.Messages), v.Bytes)
	return err
}

type summaryLine struct{ mail.Summary }

func (summaryLine) writeHuman(io.Writer, textui.Style) error { return nil }

type summaryView []mail.Summary

func (v summaryView) writeHuman(w io.Writer, st textui.Style) error {
	t := textui.NewTable("ID", "SIZE", "DATE", "FROM", "SUBJECT").AlignRight(0, 1)
	for _, s := range v {
		date := ""
		if !s.Date.IsZero() {
			date = s.Date.Format("2006-01-02 15:04")
		}
		t.Add(strconv.Itoa(s.ID), strconv.FormatInt(s.Size, 10), date, s.From, s.Subject)
	}
	return t.Write(w, st)
}
