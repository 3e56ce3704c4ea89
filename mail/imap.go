package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"mime"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"golang.org/x/net/html/charset"
)

// Box is a mailbox being read, over POP3 or IMAP: what netkit mail count,
// list, fetch and delete do. Messages are numbered from 1 as the server
// numbers them in this session.
type Box interface {
	Count() (n int, size int64, err error)
	// IDs lists the messages' numbers.
	IDs() ([]int, error)
	Summarize() ([]Summary, error)
	// Fetch writes message id to w; headersOnly stops after the header.
	Fetch(id int, headersOnly bool, w io.Writer) (int64, error)
	// FetchEach streams the messages ids to fn, one at a time, in as few
	// round trips as the protocol allows (one FETCH over IMAP).
	FetchEach(ids []int, headersOnly bool, fn func(id int, r io.Reader) error) error
	// Delete marks messages deleted; they go at Quit.
	Delete(id int) error
	// Quit ends the session, deletions taking effect.
	Quit() error
	// Close drops the session; deletions do not take effect over POP3
	// (over IMAP, the messages stay flagged \Deleted, not expunged).
	Close() error
}

// IDs lists the message numbers (LIST).
func (p *POP3) IDs() ([]int, error) {
	list, err := p.List()
	ids := make([]int, len(list))
	for i, e := range list {
		ids[i] = e.Num
	}
	return ids, err
}

// Count is STAT.
func (p *POP3) Count() (int, int64, error) { return p.Stat() }

// Fetch is RETR, or TOP n 0 for the header alone.
func (p *POP3) Fetch(id int, headersOnly bool, w io.Writer) (int64, error) {
	lines := -1
	if headersOnly {
		lines = 0
	}
	return p.Retr(id, lines, w)
}

// FetchEach fetches the messages one RETR (or TOP) at a time, each
// streamed to fn as it arrives.
func (p *POP3) FetchEach(ids []int, headersOnly bool, fn func(id int, r io.Reader) error) error {
	for _, id := range ids {
		r, err := p.retr(id, headersOnly)
		if err != nil {
			return err
		}
		err = fn(id, r)
		// Read what fn left, so the next command's reply comes next.
		if _, derr := io.Copy(io.Discard, r); err == nil {
			err = derr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Delete is DELE.
func (p *POP3) Delete(id int) error { return p.Dele(id) }

// BoxOptions say how to open a mailbox.
type BoxOptions struct {
	TLS  *tls.Config
	Wire *Wire
	// NoTLS reads in the clear, without STLS or STARTTLS.
	NoTLS bool
	// APOP logs in to POP3 with a digest; SASLPlain with AUTH PLAIN.
	APOP, SASLPlain bool
	// Search narrows an IMAP listing to messages whose text holds it
	// (server-side SEARCH); Since to messages from that day on.
	Search string
	Since  time.Time
}

// Check reports options that mb's protocol cannot honour: a search, a
// date or a folder over POP3, APOP or SASL PLAIN over IMAP (or both at
// once), no TLS with a scheme that is TLS from the start.
func (o BoxOptions) Check(mb Mailbox) error {
	pop3 := !(mb.Scheme == "imap" || mb.Scheme == "imaps")
	switch {
	case o.NoTLS && mb.Security == ImplicitTLS:
		return fmt.Errorf("mail: reading in the clear goes with pop3:// or imap://, not %s://", mb.Scheme)
	case pop3 && (o.Search != "" || !o.Since.IsZero()):
		return errors.New("mail: POP3 cannot search: a search or a date needs imap:// or imaps://")
	case pop3 && mb.Folder != "":
		return errors.New("mail: POP3 has one mailbox: a folder needs imap:// or imaps://")
	case (o.APOP || o.SASLPlain) && !pop3:
		return fmt.Errorf("mail: APOP and SASL PLAIN are POP3's, not %s://", mb.Scheme)
	case o.APOP && o.SASLPlain:
		return errors.New("mail: APOP and SASL PLAIN exclude each other")
	}
	return nil
}

// OpenBox connects to the mailbox and logs in. Options that the
// mailbox's protocol cannot honour are an error (see BoxOptions.Check).
func OpenBox(ctx context.Context, mb Mailbox, password string, o BoxOptions) (Box, error) {
	if err := o.Check(mb); err != nil {
		return nil, err
	}
	sec := mb.Security
	if o.NoTLS {
		sec = NoTLS
	}
	if mb.Scheme == "imap" || mb.Scheme == "imaps" {
		return dialIMAP(ctx, mb, password, sec, o)
	}
	p, err := DialPOP3(ctx, mb.Addr, POP3Options{Security: sec, TLS: o.TLS, Wire: o.Wire})
	if err != nil {
		return nil, err
	}
	login := func() error { return p.Login(mb.User, password, o.APOP) }
	if o.SASLPlain {
		login = func() error { return p.LoginPlain(mb.User, password) }
	}
	if err := login(); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// IMAP reads one folder of an IMAP server (RFC 9051 and 3501), on
// github.com/emersion/go-imap/v2.
type IMAP struct {
	c        *imapclient.Client
	folder   string
	search   *imap.SearchCriteria
	deleted  bool
	selected uint32 // messages when SELECT answered
}

func dialIMAP(ctx context.Context, mb Mailbox, password string, sec Security, o BoxOptions) (*IMAP, error) {
	d := net.Dialer{Timeout: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", mb.Addr)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", mb.Addr, err)
	}
	cfg := tlsFor(o.TLS, mb.Addr)
	var conn net.Conn = nc
	opts := &imapclient.Options{TLSConfig: cfg, WordDecoder: &mime.WordDecoder{CharsetReader: charset.NewReaderLabel}}
	if w := o.Wire; w != nil {
		// Only when asked: every line of every message passes through it.
		if w.Start.IsZero() {
			w.Start = time.Now()
		}
		conn, opts.DebugWriter = w.Conn(nc), w
	}
	if sec == ImplicitTLS {
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("TLS handshake with %s: %w", mb.Addr, err)
		}
		conn = tc
	}
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	var c *imapclient.Client
	if sec == StartTLS {
		if c, err = imapclient.NewStartTLS(conn, opts); err != nil {
			nc.Close()
			return nil, fmt.Errorf("IMAP STARTTLS with %s: %w", mb.Addr, err)
		}
	} else {
		c = imapclient.New(conn, opts)
		if err := c.WaitGreeting(); err != nil {
			c.Close()
			return nil, fmt.Errorf("IMAP greeting from %s: %w", mb.Addr, err)
		}
	}
	if err := c.Login(mb.User, password).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("IMAP LOGIN: %w", err)
	}
	b := &IMAP{c: c, folder: mb.Folder}
	if b.folder == "" {
		b.folder = "INBOX"
	}
	if o.Search != "" || !o.Since.IsZero() {
		b.search = &imap.SearchCriteria{Since: o.Since}
		if o.Search != "" {
			b.search.Text = []string{o.Search}
		}
	}
	sel, err := c.Select(b.folder, nil).Wait()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("IMAP SELECT %q: %w", b.folder, err)
	}
	b.selected = sel.NumMessages
	return b, nil
}

// set is the messages a listing covers: all, or what SEARCH found.
func (b *IMAP) set() (imap.NumSet, bool, error) {
	if b.search == nil {
		// The count SELECT gave; go-imap's Mailbox() follows later
		// EXISTS replies but can be nil for a moment after SELECT.
		n := b.selected
		if mb := b.c.Mailbox(); mb != nil {
			n = mb.NumMessages
		}
		if n == 0 {
			return nil, false, nil
		}
		var set imap.SeqSet
		set.AddRange(1, n)
		return set, true, nil
	}
	data, err := b.c.Search(b.search, nil).Wait()
	if err != nil {
		return nil, false, fmt.Errorf("IMAP SEARCH: %w", err)
	}
	nums := data.AllSeqNums()
	if len(nums) == 0 {
		return nil, false, nil
	}
	return imap.SeqSetNum(nums...), true, nil
}

// IDs lists the messages' sequence numbers (those SEARCH found, if it
// was asked).
func (b *IMAP) IDs() ([]int, error) {
	set, ok, err := b.set()
	if err != nil || !ok {
		return nil, err
	}
	seq := set.(imap.SeqSet)
	nums, _ := seq.Nums()
	ids := make([]int, len(nums))
	for i, n := range nums {
		ids[i] = int(n)
	}
	return ids, nil
}

// Count is the number of messages (matching the search, if any) and
// their total size.
func (b *IMAP) Count() (int, int64, error) {
	sums, err := b.fetch(&imap.FetchOptions{RFC822Size: true})
	if err != nil {
		return 0, 0, err
	}
	var size int64
	for _, m := range sums {
		size += m.RFC822Size
	}
	return len(sums), size, nil
}

func (b *IMAP) fetch(opts *imap.FetchOptions) ([]*imapclient.FetchMessageBuffer, error) {
	set, ok, err := b.set()
	if err != nil || !ok {
		return nil, err
	}
	msgs, err := b.c.Fetch(set, opts).Collect()
	if err != nil {
		return nil, fmt.Errorf("IMAP FETCH: %w", err)
	}
	return msgs, nil
}

// Summarize lists the messages from their envelopes.
func (b *IMAP) Summarize() ([]Summary, error) {
	msgs, err := b.fetch(&imap.FetchOptions{UID: true, RFC822Size: true, Envelope: true, Flags: true})
	if err != nil {
		return nil, err
	}
	out := make([]Summary, 0, len(msgs))
	for _, m := range msgs {
		s := Summary{ID: int(m.SeqNum), UID: fmt.Sprint(m.UID), Size: m.RFC822Size}
		for _, f := range m.Flags {
			s.Flags = append(s.Flags, string(f))
		}
		if e := m.Envelope; e != nil {
			s.Date, s.Subject = e.Date, e.Subject
			s.From, s.To = addrList(e.From), addrList(e.To)
		}
		out = append(out, s)
	}
	return out, nil
}

func addrList(as []imap.Address) string {
	var out []string
	for _, a := range as {
		addr := a.Addr()
		if a.Name != "" {
			addr = fmt.Sprintf("%q <%s>", a.Name, addr)
		} else {
			addr = "<" + addr + ">"
		}
		out = append(out, addr)
	}
	return strings.Join(out, ", ")
}

// Fetch streams message id (BODY.PEEK[], so it stays unread) to w.
func (b *IMAP) Fetch(id int, headersOnly bool, w io.Writer) (int64, error) {
	var n int64
	err := b.FetchEach([]int{id}, headersOnly, func(_ int, r io.Reader) error {
		k, err := io.Copy(w, r)
		n += k
		return err
	})
	return n, err
}

// FetchEach fetches the messages with one FETCH (BODY.PEEK[]), streaming
// each literal to fn as it arrives: memory stays bounded whatever the
// messages' size.
func (b *IMAP) FetchEach(ids []int, headersOnly bool, fn func(id int, r io.Reader) error) error {
	if len(ids) == 0 {
		return nil
	}
	section := &imap.FetchItemBodySection{Peek: true}
	if headersOnly {
		section.Specifier = imap.PartSpecifierHeader
	}
	nums := make([]uint32, len(ids))
	for i, id := range ids {
		nums[i] = uint32(id)
	}
	cmd := b.c.Fetch(imap.SeqSetNum(nums...), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}})
	seen := map[int]bool{}
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		for {
			item := msg.Next()
			if item == nil {
				break
			}
			if body, ok := item.(imapclient.FetchItemDataBodySection); ok && body.Literal != nil {
				seen[int(msg.SeqNum)] = true
				whole := &sizedReader{r: body.Literal, left: body.Literal.Size()}
				if err := fn(int(msg.SeqNum), &crlfToLF{r: whole}); err != nil {
					// The session cannot go on in step with the server. Not
					// cmd.Close: go-imap would read the rest of the literal
					// beside its own reader goroutine (a data race in
					// beta.8's error path); closing the connection ends both.
					b.c.Close()
					return err
				}
			}
		}
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("IMAP FETCH: %w", err)
	}
	for _, id := range ids {
		if !seen[id] {
			return fmt.Errorf("IMAP FETCH %d: no such message", id)
		}
	}
	return nil
}

// Delete flags message id \Deleted; Quit expunges.
func (b *IMAP) Delete(id int) error {
	err := b.c.Store(imap.SeqSetNum(uint32(id)), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close()
	if err != nil {
		return fmt.Errorf("IMAP STORE %d +FLAGS (\\Deleted): %w", id, err)
	}
	b.deleted = true
	return nil
}

// Quit expunges what Delete flagged and logs out.
func (b *IMAP) Quit() error {
	if b.deleted {
		if err := b.c.Expunge().Close(); err != nil {
			return fmt.Errorf("IMAP EXPUNGE: %w", err)
		}
	}
	err := b.c.Logout().Wait()
	b.c.Close()
	return err
}

// Close drops the connection.
func (b *IMAP) Close() error { return b.c.Close() }

// sizedReader fails a literal that ends before the size it announced
// (go-imap reports a connection closed mid-literal as its end).
type sizedReader struct {
	r    io.Reader
	left int64
}

func (s *sizedReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.left -= int64(n)
	if err == io.EOF && s.left > 0 {
		return n, fmt.Errorf("the message ended %d bytes short of the %s it announced: %w", s.left, "size", io.ErrUnexpectedEOF)
	}
	return n, err
}
