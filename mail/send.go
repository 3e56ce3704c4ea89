package mail

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is a message to compose.
type Message struct {
	From    string
	To      []string
	Cc      []string
	Subject string
	// Header holds more fields, in order ("Name: value" pairs).
	Header [][2]string
	// Body is the text, sent as text/plain in UTF-8.
	Body string
	// Attach names files to attach.
	Attach []string
	// Date, if zero, is now.
	Date time.Time
}

// Compose writes msg as an RFC 5322 message with MIME (a multipart/mixed
// one when it has attachments). Addresses are checked first.
func (msg *Message) Compose(w io.Writer) error {
	from, err := parseAddr("From", msg.From)
	if err != nil {
		return err
	}
	var to, cc []*gomail.Address
	for _, a := range msg.To {
		ad, err := parseAddr("To", a)
		if err != nil {
			return err
		}
		to = append(to, ad)
	}
	for _, a := range msg.Cc {
		ad, err := parseAddr("Cc", a)
		if err != nil {
			return err
		}
		cc = append(cc, ad)
	}
	var h gomail.Header
	date := msg.Date
	if date.IsZero() {
		date = time.Now()
	}
	h.SetDate(date)
	h.SetAddressList("From", []*gomail.Address{from})
	if len(to) > 0 {
		h.SetAddressList("To", to)
	}
	if len(cc) > 0 {
		h.SetAddressList("Cc", cc)
	}
	h.SetSubject(msg.Subject)
	if err := h.GenerateMessageIDWithHostname(domainOf(from.Address)); err != nil {
		return err
	}
	for _, f := range msg.Header {
		if strings.ContainsAny(f[0]+f[1], "\r\n") || f[0] == "" || strings.ContainsAny(f[0], ": ") {
			return fmt.Errorf("invalid header %q: a name without spaces or colons, and no line breaks", f[0]+": "+f[1])
		}
		h.Add(f[0], f[1])
	}
	body := strings.ReplaceAll(msg.Body, "\r\n", "\n")
	cte := textEncoding(body)
	if len(msg.Attach) == 0 {
		h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
		h.Set("Content-Transfer-Encoding", cte)
		mw, err := message.CreateWriter(w, h.Header)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(mw, body); err != nil {
			return err
		}
		return mw.Close()
	}
	mw, err := gomail.CreateWriter(w, h)
	if err != nil {
		return err
	}
	var th gomail.InlineHeader
	th.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	th.Set("Content-Transfer-Encoding", cte)
	tw, err := mw.CreateSingleInline(th)
	if err != nil {
		return err
	}
	io.WriteString(tw, body)
	tw.Close()
	for _, path := range msg.Attach {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("--attach: %w", err)
		}
		var ah gomail.AttachmentHeader
		ct, params, err := mime.ParseMediaType(mime.TypeByExtension(filepath.Ext(path)))
		if err != nil {
			ct, params = "application/octet-stream", nil
		}
		ah.SetContentType(ct, params)
		ah.SetFilename(filepath.Base(path))
		aw, err := mw.CreateAttachment(ah)
		if err == nil {
			_, err = io.Copy(aw, f)
			if cerr := aw.Close(); err == nil {
				err = cerr
			}
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("attaching %s: %w", path, err)
		}
	}
	return mw.Close()
}

// textEncoding is 7bit for short ASCII lines and quoted-printable
// otherwise: SMTP lines end by 1000 bytes (RFC 5321 4.5.3.1.6), and 8-bit
// text needs a server's 8BITMIME.
func textEncoding(body string) string {
	for line := range strings.SplitSeq(body, "\n") {
		if len(line) > 76 {
			return "quoted-printable"
		}
		for i := 0; i < len(line); i++ {
			if line[i] >= 0x80 || line[i] == 0 || line[i] == '\r' {
				return "quoted-printable"
			}
		}
	}
	return "7bit"
}

func parseAddr(field, s string) (*gomail.Address, error) {
	a, err := gomail.ParseAddress(s)
	if err != nil {
		return nil, &AddressError{Field: field, Address: s, Err: err}
	}
	if !strings.Contains(a.Address, "@") || strings.HasPrefix(a.Address, "@") || strings.HasSuffix(a.Address, "@") {
		return nil, &AddressError{Field: field, Address: s, Err: errors.New("an address is local-part@domain")}
	}
	return a, nil
}

// AddressError is an address that cannot be used.
type AddressError struct {
	Field, Address string
	Err            error
}

func (e *AddressError) Error() string {
	return fmt.Sprintf("invalid %s address %q: %v", e.Field, e.Address, e.Err)
}

func domainOf(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	return d
}

// Security is how a client protects the connection.
type Security int

const (
	// StartTLS upgrades with STARTTLS when the server offers it, and fails
	// when it does not (RFC 3207); the default.
	StartTLS Security = iota
	// ImplicitTLS speaks TLS from the first byte (SMTPS, port 465;
	// POP3S, port 995).
	ImplicitTLS
	// NoTLS sends everything in the clear.
	NoTLS
)

// Phase names a step of a dialogue, for --quit-after and timings.
type Phase string

// The phases of an SMTP submission, in order.
const (
	PhaseConnect Phase = "connect"
	PhaseBanner  Phase = "banner"
	PhaseEHLO    Phase = "ehlo"
	PhaseTLS     Phase = "tls"
	PhaseAuth    Phase = "auth"
	PhaseMail    Phase = "mail"
	PhaseRcpt    Phase = "rcpt"
	PhaseData    Phase = "data"
	PhaseQuit    Phase = "quit"
)

// QuitPhases are the phases a submission may stop after.
var QuitPhases = []Phase{PhaseConnect, PhaseBanner, PhaseEHLO, PhaseTLS, PhaseAuth, PhaseMail, PhaseRcpt}

// SendOptions say how to submit messages.
type SendOptions struct {
	// Server is host or host:port. If empty, the MX hosts of the first
	// recipient's domain are tried in preference order.
	Server string
	// Port is used where Server gives none, and for MX hosts. If zero,
	// 25, or 465 with ImplicitTLS.
	Port     int
	Security Security
	// TLS configures TLS; nil verifies against the system roots.
	TLS *tls.Config
	// Auth is PLAIN, LOGIN, CRAM-MD5 or XOAUTH2 (or empty for none), with
	// User and Password (for XOAUTH2, the OAuth 2.0 access token).
	Auth, User, Password string
	// HelloName is the name given in EHLO. If empty, "localhost".
	HelloName string
	// Envelope sender and recipients; if empty, the messages' From and
	// To and Cc.
	From string
	To   []string
	// QuitAfter stops after this phase with QUIT (after connect, just
	// closes). Empty runs the whole submission.
	QuitAfter Phase
	// Wire, if set, is shown the dialogue.
	Wire *Wire
	// Timeout bounds each command's wait. If zero, 30s.
	Timeout time.Duration
	// Resolver looks up MX records; nil means net.DefaultResolver.
	Resolver *net.Resolver
}

// Result tells how a submission went.
type Result struct {
	Server     string        `json:"server"`
	TLS        bool          `json:"tls"`
	Auth       string        `json:"auth,omitempty"`
	Messages   int           `json:"messages"`
	Recipients int           `json:"recipients"`
	Bytes      int64         `json:"bytes"`
	Replies    []string      `json:"replies,omitempty"` // the server's answers to the DATA of each message
	Phases     []PhaseTiming `json:"phases"`
	StoppedAt  Phase         `json:"stopped_after,omitempty"`
}

// PhaseTiming is how long a phase took.
type PhaseTiming struct {
	Phase Phase   `json:"phase"`
	MS    float64 `json:"ms"`
}

// ReplyError is an SMTP reply that refused a command. Temporary says
// that a 4xx code allows a later try to succeed.
type ReplyError struct {
	Phase     Phase
	Code      int
	Enhanced  string
	Message   string
	Temporary bool
}

func (e *ReplyError) Error() string {
	s := fmt.Sprintf("%s refused: %d", e.Phase, e.Code)
	if e.Enhanced != "" {
		s += " " + e.Enhanced
	}
	s += " " + e.Message
	if meaning := replyMeaning(e.Code); meaning != "" {
		s += " (" + meaning + ")"
	}
	if e.Temporary {
		s += "; a 4xx reply: it may succeed later"
	}
	return s
}

// replyMeaning says what RFC 5321's reply codes mean.
func replyMeaning(code int) string {
	switch code {
	case 421:
		return "the server is closing the connection"
	case 450, 451, 452:
		return "the server cannot take it now"
	case 454:
		return "TLS or authentication is not available now"
	case 500, 501, 502, 504:
		return "the server did not understand or does not do this command"
	case 503:
		return "commands in the wrong order"
	case 530:
		return "authentication is required"
	case 534, 538:
		return "a stronger authentication mechanism or TLS is required"
	case 535:
		return "the credentials were refused"
	case 550:
		return "the mailbox is unavailable, or relaying is denied"
	case 551, 553:
		return "the address is not accepted here"
	case 552:
		return "the message exceeds the server's size limit"
	case 554:
		return "the transaction failed"
	case 555:
		return "a MAIL or RCPT parameter is not recognised"
	}
	return ""
}

func replyError(phase Phase, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		re := &ReplyError{Phase: phase, Code: se.Code, Message: se.Message, Temporary: se.Code >= 400 && se.Code < 500}
		if se.EnhancedCode != (smtp.EnhancedCode{}) && se.EnhancedCode != smtp.NoEnhancedCode {
			re.Enhanced = fmt.Sprintf("%d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
		}
		return re
	}
	return fmt.Errorf("%s: %w", phase, err)
}

// Send submits the messages, composed, on one connection: many messages
// and many recipients, PIPELINING used when the server offers it.
func Send(ctx context.Context, o SendOptions, msgs ...*Message) (*Result, error) {
	if len(msgs) == 0 && o.QuitAfter == "" {
		return nil, errors.New("mail: nothing to send")
	}
	bodies := make([][]byte, len(msgs))
	for i, m := range msgs {
		var b bytes.Buffer
		if err := m.Compose(&b); err != nil {
			return nil, err
		}
		bodies[i] = b.Bytes()
	}
	from, rcpts := o.From, o.To
	if len(msgs) > 0 {
		if from == "" {
			a, _ := gomail.ParseAddress(msgs[0].From)
			from = a.Address
		}
		if len(rcpts) == 0 {
			for _, s := range slices.Concat(msgs[0].To, msgs[0].Cc) {
				a, _ := gomail.ParseAddress(s)
				rcpts = append(rcpts, a.Address)
			}
		}
	}
	if len(msgs) > 0 && len(rcpts) == 0 {
		return nil, errors.New("mail: no recipients")
	}
	port := strconv.Itoa(o.Port)
	if o.Port == 0 {
		port = map[bool]string{true: "465", false: "25"}[o.Security == ImplicitTLS]
	}
	servers := []string{o.Server}
	if _, _, err := net.SplitHostPort(o.Server); o.Server != "" && err != nil {
		servers[0] = net.JoinHostPort(strings.Trim(o.Server, "[]"), port)
	}
	if o.Server == "" {
		if len(rcpts) == 0 {
			return nil, errors.New("mail: no server and no recipient to find one for")
		}
		mx, err := lookupMX(ctx, o.Resolver, domainOf(rcpts[0]))
		if err != nil {
			return nil, err
		}
		servers = nil
		for _, hp := range mx {
			host, _, _ := net.SplitHostPort(hp)
			servers = append(servers, net.JoinHostPort(host, port))
		}
	}
	var last error
	for _, server := range servers {
		res, err := sendTo(ctx, o, server, from, rcpts, bodies)
		var re *ReplyError
		if err == nil || errors.As(err, &re) && !re.Temporary {
			return res, err
		}
		last = err
	}
	return nil, last
}

// lookupMX lists the MX hosts of domain in preference order, on port 25;
// a domain without MX records is its own mail host (RFC 5321 5.1).
func lookupMX(ctx context.Context, r *net.Resolver, domain string) ([]string, error) {
	if r == nil {
		r = net.DefaultResolver
	}
	mxs, err := r.LookupMX(ctx, domain)
	if err != nil {
		var de *net.DNSError
		if errors.As(err, &de) && de.IsNotFound {
			return []string{net.JoinHostPort(domain, "25")}, nil
		}
		return nil, fmt.Errorf("looking up the mail servers of %s: %w", domain, err)
	}
	var out []string
	for _, mx := range mxs {
		if mx.Host == "." {
			return nil, fmt.Errorf("%s takes no mail (a null MX, RFC 7505)", domain)
		}
		out = append(out, net.JoinHostPort(strings.TrimSuffix(mx.Host, "."), "25"))
	}
	return out, nil
}

func sendTo(ctx context.Context, o SendOptions, server, from string, rcpts []string, bodies [][]byte) (res *Result, err error) {
	res = &Result{Server: server}
	start := time.Now()
	mark := func(p Phase) {
		res.Phases = append(res.Phases, PhaseTiming{p, float64(time.Since(start).Microseconds()) / 1000})
	}
	stop := func(p Phase) bool {
		if o.QuitAfter == p {
			res.StoppedAt = p
			return true
		}
		return false
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	tlsCfg := tlsFor(o.TLS, server)
	d := net.Dialer{Timeout: timeout}
	nc, err := d.DialContext(ctx, "tcp", server)
	if err != nil {
		return res, fmt.Errorf("connect %s: %w", server, err)
	}
	defer nc.Close()
	stopCtx := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stopCtx()
	w := o.Wire
	if w == nil {
		w = &Wire{}
	}
	if w.Start.IsZero() {
		w.Start = start
	}
	conn := w.Conn(nc)
	if o.Security == ImplicitTLS {
		tc := tls.Client(conn, tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return res, fmt.Errorf("TLS handshake with %s: %w", server, err)
		}
		conn, res.TLS = tc, true
	}
	mark(PhaseConnect)
	if stop(PhaseConnect) {
		return res, nil
	}
	if o.QuitAfter == PhaseBanner {
		return res, quitAfterBanner(conn, w, res, mark)
	}
	name := o.HelloName
	if name == "" {
		name = "localhost"
	}
	var c *smtp.Client
	if o.Security == StartTLS && o.QuitAfter != PhaseEHLO {
		var err error
		c, err = newStartTLSClient(conn, tlsCfg, w, name)
		if err != nil {
			return res, replyError(PhaseTLS, err)
		}
		bannerPhase(w, res)
		mark(PhaseEHLO)
		res.TLS = true
		mark(PhaseTLS)
		if stop(PhaseTLS) {
			return res, quit(c, res, mark)
		}
	} else {
		c = smtp.NewClient(conn)
		c.DebugWriter = w
		if err := c.Hello(name); err != nil {
			return res, replyError(PhaseEHLO, err)
		}
		// Hello is lazy in go-smtp: Extension sends the EHLO.
		c.Extension("AUTH")
		bannerPhase(w, res)
		mark(PhaseEHLO)
		if stop(PhaseEHLO) {
			return res, quit(c, res, mark)
		}
	}
	c.CommandTimeout, c.SubmissionTimeout = timeout, timeout
	defer c.Close()
	if o.Auth != "" {
		var sc sasl.Client
		switch strings.ToUpper(o.Auth) {
		case "PLAIN":
			sc = sasl.NewPlainClient("", o.User, o.Password)
		case "LOGIN":
			sc = sasl.NewLoginClient(o.User, o.Password)
		case "CRAM-MD5":
			sc = newCRAMMD5(o.User, o.Password)
		case "XOAUTH2":
			sc = newXOAUTH2(o.User, o.Password) // the password is the access token
		default:
			return res, fmt.Errorf("invalid AUTH mechanism %q: PLAIN, LOGIN, CRAM-MD5 or XOAUTH2", o.Auth)
		}
		if !c.SupportsAuth(strings.ToUpper(o.Auth)) {
			_, mechs := c.Extension("AUTH")
			return res, fmt.Errorf("%s does not offer AUTH %s (it offers %q)", server, strings.ToUpper(o.Auth), mechs)
		}
		if err := c.Auth(sc); err != nil {
			return res, replyError(PhaseAuth, err)
		}
		res.Auth = strings.ToUpper(o.Auth)
		mark(PhaseAuth)
	}
	if stop(PhaseAuth) {
		return res, quit(c, res, mark)
	}
	if len(bodies) == 0 && (o.QuitAfter == PhaseMail || o.QuitAfter == PhaseRcpt) {
		bodies = [][]byte{nil} // MAIL and RCPT are said; DATA never comes
	}
	for i, body := range bodies {
		if i > 0 {
			if err := c.Reset(); err != nil {
				return res, replyError(PhaseMail, err)
			}
		}
		if err := c.Mail(from, nil); err != nil {
			return res, replyError(PhaseMail, err)
		}
		if i == 0 {
			mark(PhaseMail)
			if stop(PhaseMail) {
				return res, quit(c, res, mark)
			}
		}
		for _, r := range rcpts {
			if err := c.Rcpt(r, nil); err != nil {
				return res, replyError(PhaseRcpt, err)
			}
		}
		if i == 0 {
			mark(PhaseRcpt)
			if stop(PhaseRcpt) {
				return res, quit(c, res, mark)
			}
		}
		dw, err := c.Data()
		if err != nil {
			return res, replyError(PhaseData, err)
		}
		if _, err := dw.Write(body); err != nil {
			return res, replyError(PhaseData, err)
		}
		resp, err := dw.CloseWithResponse()
		if err != nil {
			return res, replyError(PhaseData, err)
		}
		res.Replies = append(res.Replies, "250 "+resp.StatusText)
		res.Messages++
		res.Recipients += len(rcpts)
		res.Bytes += int64(len(body))
	}
	mark(PhaseData)
	return res, quit(c, res, mark)
}

func quit(c *smtp.Client, res *Result, mark func(Phase)) error {
	if err := c.Quit(); err != nil {
		return replyError(PhaseQuit, err)
	}
	mark(PhaseQuit)
	return nil
}

// quitAfterBanner reads the greeting and says QUIT, without EHLO.
func quitAfterBanner(conn net.Conn, w *Wire, res *Result, mark func(Phase)) error {
	tp := textproto.NewConn(struct {
		io.Reader
		io.Writer
		io.Closer
	}{io.TeeReader(bufio.NewReader(conn), wireIn{w}), io.MultiWriter(conn, wireOut{w}), conn})
	if _, _, err := tp.ReadResponse(220); err != nil {
		return replyError(PhaseBanner, err)
	}
	mark(PhaseBanner)
	res.StoppedAt = PhaseBanner
	if err := tp.PrintfLine("QUIT"); err != nil {
		return err
	}
	if _, _, err := tp.ReadResponse(221); err != nil {
		return replyError(PhaseQuit, err)
	}
	mark(PhaseQuit)
	return nil
}

type wireIn struct{ w *Wire }

func (x wireIn) Write(p []byte) (int, error) { x.w.Received(p); return len(p), nil }

type wireOut struct{ w *Wire }

func (x wireOut) Write(p []byte) (int, error) { x.w.Sent(p); return len(p), nil }

// ParsePhase reads a --quit-after phase.
func ParsePhase(s string) (Phase, error) {
	for _, p := range QuitPhases {
		if string(p) == strings.ToLower(s) {
			return p, nil
		}
	}
	names := make([]string, len(QuitPhases))
	for i, p := range QuitPhases {
		names[i] = string(p)
	}
	return "", fmt.Errorf("invalid phase %q: one of %s", s, strings.Join(names, ", "))
}

// newStartTLSClient greets the server, says EHLO and STARTTLS by hand,
// shakes hands, and returns go-smtp's client over the TLS connection (its
// own STARTTLS is reachable only through a constructor that talks before
// the dialogue can be shown). go-smtp expects a greeting on a new client:
// it is given one that the server never sent, and that the Wire hides.
func newStartTLSClient(conn net.Conn, cfg *tls.Config, w *Wire, name string) (*smtp.Client, error) {
	br := bufio.NewReader(conn)
	tp := textproto.NewConn(struct {
		io.Reader
		io.Writer
		io.Closer
	}{io.TeeReader(br, wireIn{w}), io.MultiWriter(conn, wireOut{w}), conn})
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, err
	}
	if err := tp.PrintfLine("EHLO %s", name); err != nil {
		return nil, err
	}
	_, ext, err := tp.ReadResponse(250)
	if err != nil {
		return nil, err
	}
	offered := false
	for _, l := range strings.Split(ext, "\n") {
		if strings.EqualFold(strings.TrimSpace(l), "STARTTLS") {
			offered = true
		}
	}
	if !offered {
		return nil, errors.New("the server does not offer STARTTLS; use --no-tls to send in the clear, or --tls for implicit TLS")
	}
	if err := tp.PrintfLine("STARTTLS"); err != nil {
		return nil, err
	}
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, err
	}
	if br.Buffered() > 0 {
		return nil, errors.New("the server sent bytes after its STARTTLS reply, before TLS (a STARTTLS injection, CVE-2011-0411)")
	}
	tc := tls.Client(conn, cfg)
	if err := tc.Handshake(); err != nil {
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	w.mu.Lock()
	w.skip, w.dir = w.skip+1, 'S'
	w.mu.Unlock()
	c := smtp.NewClient(&greeted{Conn: tc, greeting: []byte("220 TLS\r\n")})
	c.DebugWriter = w
	if err := c.Hello(name); err != nil {
		return nil, err
	}
	c.Extension("AUTH") // EHLO again, now encrypted
	return c, nil
}

// greeted gives go-smtp the greeting it waits for before the first
// command.
type greeted struct {
	net.Conn
	greeting []byte
}

func (g *greeted) Read(p []byte) (int, error) {
	if len(g.greeting) > 0 {
		n := copy(p, g.greeting)
		g.greeting = g.greeting[n:]
		return n, nil
	}
	return g.Conn.Read(p)
}

func bannerPhase(w *Wire, res *Result) {
	if ev, ok := w.First(); ok {
		res.Phases = append(res.Phases, PhaseTiming{PhaseBanner, float64(ev.At.Microseconds()) / 1000})
	}
}
