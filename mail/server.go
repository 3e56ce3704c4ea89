package mail

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Server is the local catch-all mail server: SMTP in, POP3 out, one
// Maildir between them. Set Maildir; the other fields have defaults.
type Server struct {
	Maildir *Maildir
	// Domain is the name in the greetings. If empty, "netkit.invalid".
	Domain string
	// MaxMessageBytes refuses larger messages (552). If zero, 25 MiB.
	MaxMessageBytes int64
	// MaxRecipients refuses more recipients a message (452). If zero,
	// 100.
	MaxRecipients int
	// TLS, if set, is offered with STARTTLS on SMTP and STLS on POP3.
	TLS *tls.Config
	// Users are the accounts (name to password) that POP3 and SMTP AUTH
	// take. If empty, POP3 takes any name and password and SMTP needs
	// no AUTH: a server for trying clients on loopback.
	Users map[string]string
	// Logger logs each message stored and each refusal; nil discards.
	Logger *slog.Logger

	stored atomic.Int64

	uidOnce sync.Once // the IMAP UIDs, loaded on first use
	uidList *uidList
	uidErr  error
}

// Stats counts what the server did.
type Stats struct {
	Stored int64 `json:"stored"`
}

// Stats returns the counts so far.
func (s *Server) Stats() Stats { return Stats{Stored: s.stored.Load()} }

func (s *Server) domain() string {
	if s.Domain != "" {
		return s.Domain
	}
	return "netkit.invalid"
}

func (s *Server) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Server) checkUser(user, pass string) bool {
	if len(s.Users) == 0 {
		return true
	}
	want, ok := s.Users[user]
	return ok && subtle.ConstantTimeCompare([]byte(want), []byte(pass)) == 1
}

// ServeSMTP takes mail on ln until ctx ends.
func (s *Server) ServeSMTP(ctx context.Context, ln net.Listener) error {
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, remote: c.Conn().RemoteAddr().String()}, nil
	}))
	srv.Domain = s.domain()
	srv.MaxMessageBytes = s.MaxMessageBytes
	if srv.MaxMessageBytes <= 0 {
		srv.MaxMessageBytes = 25 << 20
	}
	srv.MaxRecipients = s.MaxRecipients
	if srv.MaxRecipients <= 0 {
		srv.MaxRecipients = 100
	}
	srv.TLSConfig = s.TLS
	srv.AllowInsecureAuth = s.TLS == nil
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Minute, time.Minute
	srv.ErrorLog = slogLogger{s.log()}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	<-done
	return nil
}

type slogLogger struct{ l *slog.Logger }

func (l slogLogger) Printf(format string, v ...any) { l.l.Debug(fmt.Sprintf(format, v...)) }
func (l slogLogger) Println(v ...any)               { l.l.Debug(fmt.Sprint(v...)) }

// session is one SMTP transaction's state.
type session struct {
	s      *Server
	remote string
	from   string
	rcpts  []string
	authed bool
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if !ss.s.checkUser(user, pass) {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if len(ss.s.Users) > 0 && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.rcpts = append(ss.rcpts, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Return-Path: <%s>\n", ss.from)
	fmt.Fprintf(&b, "Delivered-To: %s\n", strings.Join(ss.rcpts, ", "))
	fmt.Fprintf(&b, "Received: from %s by %s (netkit mail serve); %s\n", ss.remote, ss.s.domain(), time.Now().Format(time.RFC1123Z))
	if _, err := io.Copy(&b, &crlfToLF{r: r}); err != nil {
		ss.s.log().Info("refused", "from", ss.from, "remote", ss.remote, "err", err)
		return err
	}
	id, err := ss.s.Maildir.Deliver(&b)
	if err != nil {
		ss.s.log().Error("storing a message", "err", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "cannot store the message now"}
	}
	ss.s.stored.Add(1)
	ss.s.log().Info("stored", "id", id, "from", ss.from, "to", ss.rcpts, "bytes", b.Len())
	return nil
}

func (ss *session) Reset()        { ss.from, ss.rcpts = "", nil }
func (ss *session) Logout() error { return nil }

// crlfToLF stores lines with LF ends, as a Maildir keeps them.
type crlfToLF struct {
	r  io.Reader
	cr bool
}

func (c *crlfToLF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	out := p[:0]
	for _, b := range p[:n] {
		if c.cr && b != '\n' {
			out = append(out, '\r')
		}
		c.cr = b == '\r'
		if !c.cr {
			out = append(out, b)
		}
	}
	if err == io.EOF && c.cr {
		out = append(out, '\r')
		c.cr = false
	}
	return len(out), err
}

// ServePOP3 serves the Maildir over POP3 on ln until ctx ends.
func (s *Server) ServePOP3(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.SetDeadline(time.Unix(1, 0))
		}
		mu.Unlock()
	})
	defer stop()
	for {
		c, err := ln.Accept()
		if err != nil {
			wg.Wait()
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		mu.Lock()
		conns[c] = true
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.pop3Session(c)
			c.Close()
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
		}()
	}
}

func apopTimestamp(domain string) string {
	var b [8]byte
	randRead(b[:])
	return fmt.Sprintf("<%s.%d@%s>", hex.EncodeToString(b[:]), time.Now().Unix(), domain)
}

func apopDigest(timestamp, pass string) string {
	sum := md5.Sum([]byte(timestamp + pass))
	return hex.EncodeToString(sum[:])
}

var errQuit = errors.New("quit")
