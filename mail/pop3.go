package mail

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"
)

// POP3 is a POP3 client (RFC 1939, with CAPA and STLS from RFC 2449 and
// RFC 2595). Make one with [DialPOP3].
type POP3 struct {
	conn    net.Conn
	tp      *textproto.Conn
	wire    *Wire
	banner  string
	capa    map[string]string
	timeout time.Duration
}

// POP3Options say how to reach a POP3 server.
type POP3Options struct {
	// Security: StartTLS (STLS, the default), ImplicitTLS (POP3S, port
	// 995) or NoTLS.
	Security Security
	TLS      *tls.Config
	// Wire, if set, is shown the dialogue (PASS masked).
	Wire *Wire
	// Timeout bounds each command's wait. If zero, 30s.
	Timeout time.Duration
}

// POP3Error is a -ERR reply.
type POP3Error struct {
	Command string
	Reply   string
}

func (e *POP3Error) Error() string {
	return fmt.Sprintf("POP3 %s refused: -ERR %s", e.Command, e.Reply)
}

// DialPOP3 connects to addr (host:port), reads the greeting, and
// upgrades to TLS as opts say.
func DialPOP3(ctx context.Context, addr string, opts POP3Options) (*POP3, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	d := net.Dialer{Timeout: timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", addr, err)
	}
	w := opts.Wire
	if w != nil && w.Start.IsZero() {
		w.Start = time.Now()
	}
	cfg := tlsFor(opts.TLS, addr)
	var conn net.Conn = nc
	if opts.Security == ImplicitTLS {
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
		}
		conn = tc
	}
	p := &POP3{wire: w, timeout: timeout}
	p.setConn(conn)
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if p.banner, err = p.reply("greeting"); err != nil {
		p.conn.Close()
		return nil, err
	}
	p.capa, _ = p.Capa()
	if opts.Security == StartTLS {
		if _, ok := p.capa["STLS"]; !ok {
			p.conn.Close()
			return nil, fmt.Errorf("%s does not offer STLS; use pop3s:// for implicit TLS, or --no-tls to read in the clear", addr)
		}
		if _, err := p.cmd("STLS"); err != nil {
			p.conn.Close()
			return nil, err
		}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
		}
		p.setConn(tc)
		p.capa, _ = p.Capa()
	}
	return p, nil
}

func (p *POP3) setConn(c net.Conn) {
	p.conn = c
	if p.wire == nil {
		p.tp = textproto.NewConn(c)
		return
	}
	p.tp = textproto.NewConn(struct {
		io.Reader
		io.Writer
		io.Closer
	}{io.TeeReader(c, wireIn{p.wire}), io.MultiWriter(c, wireOut{p.wire}), c})
}

// Banner is the server's greeting, after +OK.
func (p *POP3) Banner() string { return p.banner }

func (p *POP3) reply(what string) (string, error) {
	p.conn.SetReadDeadline(time.Now().Add(p.timeout))
	line, err := p.tp.ReadLine()
	if err != nil {
		return "", fmt.Errorf("POP3 %s: %w", what, err)
	}
	switch {
	case strings.HasPrefix(line, "+OK"):
		return strings.TrimSpace(line[3:]), nil
	case strings.HasPrefix(line, "-ERR"):
		return "", &POP3Error{Command: what, Reply: strings.TrimSpace(line[4:])}
	}
	return "", fmt.Errorf("POP3 %s: the server answered %q, neither +OK nor -ERR", what, line)
}

func (p *POP3) cmd(format string, args ...any) (string, error) {
	line := fmt.Sprintf(format, args...)
	if strings.ContainsAny(line, "\r\n") {
		return "", fmt.Errorf("POP3: a command may not hold a line break: %q", line)
	}
	p.conn.SetWriteDeadline(time.Now().Add(p.timeout))
	if err := p.tp.PrintfLine("%s", line); err != nil {
		return "", err
	}
	name, _, _ := strings.Cut(line, " ")
	return p.reply(name)
}

// multi reads a multi-line response's lines, dots undone.
func (p *POP3) multi() ([]string, error) {
	p.conn.SetReadDeadline(time.Now().Add(p.timeout))
	return p.tp.ReadDotLines()
}

// Capa lists the server's capabilities (RFC 2449): name to arguments.
func (p *POP3) Capa() (map[string]string, error) {
	if _, err := p.cmd("CAPA"); err != nil {
		return map[string]string{}, err
	}
	lines, err := p.multi()
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, l := range lines {
		name, args, _ := strings.Cut(l, " ")
		m[strings.ToUpper(name)] = args
	}
	return m, nil
}

// Login authenticates with USER and PASS, or APOP when apop is set and
// the greeting holds a timestamp.
func (p *POP3) Login(user, pass string, apop bool) error {
	if apop {
		i, j := strings.IndexByte(p.banner, '<'), strings.LastIndexByte(p.banner, '>')
		if i < 0 || j < i {
			return errors.New("POP3 APOP: the greeting holds no timestamp, so the server does not do APOP")
		}
		_, err := p.cmd("APOP %s %s", user, apopDigest(p.banner[i:j+1], pass))
		return err
	}
	if _, err := p.cmd("USER %s", user); err != nil {
		return err
	}
	_, err := p.cmd("PASS %s", pass)
	return err
}

// LoginPlain authenticates with SASL PLAIN (RFC 5034), the initial
// response on the AUTH line.
func (p *POP3) LoginPlain(user, pass string) error {
	if mechs, ok := p.capa["SASL"]; ok && !slices.Contains(strings.Fields(strings.ToUpper(mechs)), "PLAIN") {
		return fmt.Errorf("POP3 AUTH PLAIN: the server offers SASL %s", mechs)
	}
	_, err := p.cmd("AUTH PLAIN %s", base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+pass)))
	return err
}

// Stat returns the number of messages and their total size.
func (p *POP3) Stat() (count int, size int64, err error) {
	r, err := p.cmd("STAT")
	if err != nil {
		return 0, 0, err
	}
	if _, err := fmt.Sscanf(r, "%d %d", &count, &size); err != nil {
		return 0, 0, fmt.Errorf("POP3 STAT: cannot read %q", r)
	}
	return count, size, nil
}

// Entry is one message of a listing.
type Entry struct {
	Num  int    `json:"id"`
	UID  string `json:"uid,omitempty"`
	Size int64  `json:"size"`
}

// List lists the messages with their sizes and, when the server does
// UIDL, their unique ids.
func (p *POP3) List() ([]Entry, error) {
	if _, err := p.cmd("LIST"); err != nil {
		return nil, err
	}
	lines, err := p.multi()
	if err != nil {
		return nil, err
	}
	var out []Entry
	index := map[int]int{}
	for _, l := range lines {
		var e Entry
		if _, err := fmt.Sscanf(l, "%d %d", &e.Num, &e.Size); err != nil {
			return nil, fmt.Errorf("POP3 LIST: cannot read %q", l)
		}
		index[e.Num] = len(out)
		out = append(out, e)
	}
	if _, err := p.cmd("UIDL"); err == nil {
		lines, err := p.multi()
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			num, uid, ok := strings.Cut(l, " ")
			n, err := strconv.Atoi(num)
			if i, found := index[n]; ok && err == nil && found {
				out[i].UID = uid
			}
		}
	}
	return out, nil
}

// Retr writes message n to w, lines ending in LF (as a Maildir keeps
// them); lines limits it to the header and that many body lines (TOP)
// when >= 0. A message cut short (the connection closed before the
// final dot) is an error.
func (p *POP3) Retr(n int, lines int, w io.Writer) (int64, error) {
	var err error
	if lines >= 0 {
		_, err = p.cmd("TOP %d %d", n, lines)
	} else {
		_, err = p.cmd("RETR %d", n)
	}
	if err != nil {
		return 0, err
	}
	// The DotReader undoes the dot-stuffing, ends lines with LF, and says
	// io.ErrUnexpectedEOF when the final dot never comes.
	return io.Copy(w, p.idle(p.tp.DotReader()))
}

// retr starts RETR (or TOP n 0) and returns the message's reader.
func (p *POP3) retr(n int, headersOnly bool) (io.Reader, error) {
	var err error
	if headersOnly {
		_, err = p.cmd("TOP %d 0", n)
	} else {
		_, err = p.cmd("RETR %d", n)
	}
	if err != nil {
		return nil, err
	}
	return p.idle(p.tp.DotReader()), nil
}

// idle bounds each wait for more of a message by the timeout, not the
// whole message: a large one over a slow path may take longer.
func (p *POP3) idle(r io.Reader) io.Reader { return &idleReader{p: p, r: r} }

type idleReader struct {
	p *POP3
	r io.Reader
}

func (i *idleReader) Read(b []byte) (int, error) {
	i.p.conn.SetReadDeadline(time.Now().Add(i.p.timeout))
	return i.r.Read(b)
}

// Dele marks message n deleted; it goes at Quit.
func (p *POP3) Dele(n int) error {
	_, err := p.cmd("DELE %d", n)
	return err
}

// Quit ends the session: deletions take effect.
func (p *POP3) Quit() error {
	_, err := p.cmd("QUIT")
	p.conn.Close()
	return err
}

// Close drops the connection without QUIT: deletions are undone.
func (p *POP3) Close() error { return p.conn.Close() }
