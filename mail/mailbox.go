package mail

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	netmail "net/mail"
	"net/url"
	"strings"
	"time"
)

// Mailbox is where messages are read: a POP3 or IMAP server and a user,
// from a URL such as pop3s://ann@mail.example.org or
// imaps://ann@mail.example.org/Archive.
type Mailbox struct {
	Scheme   string // "pop3", "pop3s", "imap" or "imaps"
	User     string
	Addr     string // host:port
	Security Security
	Folder   string // IMAP only; empty means INBOX
}

// ParseMailbox reads pop3://USER@HOST[:PORT] (STLS unless told
// otherwise, port 110), pop3s://USER@HOST[:PORT] (TLS, port 995),
// imap://USER@HOST[:PORT][/FOLDER] (STARTTLS, port 143) and
// imaps://USER@HOST[:PORT][/FOLDER] (TLS, port 993).
func ParseMailbox(s string) (Mailbox, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return Mailbox{}, fmt.Errorf("invalid mailbox %q: want pop3://USER@HOST[:PORT] or pop3s://USER@HOST[:PORT]", s)
	}
	m := Mailbox{Scheme: strings.ToLower(u.Scheme)}
	port := ""
	switch m.Scheme {
	case "pop3":
		port = "110"
	case "pop3s":
		port, m.Security = "995", ImplicitTLS
	case "imap":
		port = "143"
	case "imaps":
		port, m.Security = "993", ImplicitTLS
	default:
		return Mailbox{}, fmt.Errorf("invalid mailbox %q: the scheme is pop3, pop3s, imap or imaps", s)
	}
	if u.User == nil || u.User.Username() == "" {
		return Mailbox{}, fmt.Errorf("invalid mailbox %q: it names no user (pop3://USER@HOST)", s)
	}
	if _, set := u.User.Password(); set {
		return Mailbox{}, fmt.Errorf("invalid mailbox %q: a password in the URL would show in the process list; give it in NETKIT_MAIL_PASSWORD, --password-file or at the prompt", s)
	}
	m.User = u.User.Username()
	if folder := strings.TrimPrefix(u.Path, "/"); folder != "" {
		if strings.HasPrefix(m.Scheme, "pop3") {
			return Mailbox{}, fmt.Errorf("invalid mailbox %q: POP3 has one mailbox, no folder", s)
		}
		m.Folder = folder
	}
	host := u.Hostname()
	if p := u.Port(); p != "" {
		port = p
	}
	m.Addr = host + ":" + port
	if strings.Contains(host, ":") {
		m.Addr = "[" + host + "]:" + port
	}
	return m, nil
}

// Summary describes one message of a mailbox, from its header.
type Summary struct {
	ID      int       `json:"id"`
	UID     string    `json:"uid,omitempty"`
	Size    int64     `json:"size"`
	Date    time.Time `json:"date,omitzero"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	Subject string    `json:"subject"`
	Flags   []string  `json:"flags,omitempty"` // IMAP only
}

// Summarize lists the messages with what their headers say (TOP n 0 each).
func (p *POP3) Summarize() ([]Summary, error) {
	list, err := p.List()
	if err != nil {
		return nil, err
	}
	out := make([]Summary, 0, len(list))
	for _, e := range list {
		var b bytes.Buffer
		if _, err := p.Retr(e.Num, 0, &b); err != nil {
			return nil, err
		}
		s := Summary{ID: e.Num, UID: e.UID, Size: e.Size}
		if m, err := netmail.ReadMessage(bufio.NewReader(io.MultiReader(&b, strings.NewReader("\n")))); err == nil {
			dec := new(mimeDecoder)
			s.From, s.To, s.Subject = dec.decode(m.Header.Get("From")), dec.decode(m.Header.Get("To")), dec.decode(m.Header.Get("Subject"))
			s.Date, _ = m.Header.Date()
		}
		out = append(out, s)
	}
	return out, nil
}

// WriteMbox appends a message to an mbox (the mboxrd form: a "From "
// line first, and lines that start with ">*From " given one more ">").
func WriteMbox(w io.Writer, sender string, date time.Time, msg io.Reader) error {
	if sender == "" {
		sender = "MAILER-DAEMON"
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "From %s %s\n", sender, date.UTC().Format(time.ANSIC))
	br := bufio.NewReader(msg)
	last := byte('\n')
	for {
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			if strings.HasPrefix(strings.TrimLeft(line, ">"), "From ") {
				bw.WriteByte('>')
			}
			bw.WriteString(line)
			last = line[len(line)-1]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if last != '\n' {
		bw.WriteByte('\n')
	}
	bw.WriteByte('\n')
	return bw.Flush()
}
