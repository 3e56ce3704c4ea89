package mail

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// FuzzPOP3Server sends any lines to a POP3 session over a pipe: it must
// answer each with +OK or -ERR lines, never crash, and never delete
// without QUIT.
func FuzzPOP3Server(f *testing.F) {
	for _, s := range []string{"USER a\nPASS b\nSTAT\nLIST\nRETR 1\nQUIT\n", "CAPA\nAPOP a b\n", "USER a\nPASS b\nTOP 1 -1\nDELE 1\nDELE 1\nRSET\nUIDL 99\n",
		"RETR\n", "user a\npass b\nlist 0\nuidl 1\ntop 1 0\n", strings.Repeat("X", 2000) + "\n"} {
		f.Add(s)
	}
	dir := f.TempDir()
	md, _ := OpenMaildir(dir)
	md.Deliver(strings.NewReader("Subject: one\n\n.a dot line\nbody\n"))
	md.Deliver(strings.NewReader("Subject: two\n\nbody\n"))
	s := &Server{Maildir: md}
	f.Fuzz(func(t *testing.T, in string) {
		if strings.Contains(strings.ToUpper(in), "QUIT") {
			in = strings.ReplaceAll(strings.ToUpper(in), "QUIT", "NOOP")
		}
		c1, c2 := net.Pipe()
		done := make(chan struct{})
		go func() { s.pop3Session(c1); c1.Close(); close(done) }()
		go func() {
			c2.SetDeadline(time.Now().Add(5 * time.Second))
			for line := range strings.SplitSeq(in, "\n") {
				if _, err := c2.Write([]byte(line + "\r\n")); err != nil {
					break
				}
			}
			c2.Close()
		}()
		br := bufio.NewReader(c2)
		first, err := br.ReadString('\n')
		if err == nil && !strings.HasPrefix(first, "+OK") {
			t.Fatalf("greeting %q", first)
		}
		for {
			if _, err := br.ReadString('\n'); err != nil {
				break
			}
		}
		<-done
		list, _ := md.List()
		if len(list) != 2 {
			t.Fatalf("%d messages left without QUIT", len(list))
		}
	})
}

func FuzzParseMailbox(f *testing.F) {
	for _, s := range []string{"pop3://a@h", "pop3s://a@[::1]:995", "imap://a@h", "pop3://a:b@h", "pop3://@h", "pop3://a@h/x", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMailbox(s)
		if err != nil {
			return
		}
		if m.User == "" || m.Addr == "" {
			t.Fatalf("%q: %+v", s, m)
		}
		if _, _, err := net.SplitHostPort(m.Addr); err != nil {
			t.Fatalf("%q: address %q: %v", s, m.Addr, err)
		}
	})
}

// pipeListener hands out one connection, then waits to be closed.
type pipeListener struct {
	c    chan net.Conn
	done chan struct{}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.c:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}
func (l *pipeListener) Close() error   { close(l.done); return nil }
func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{} }

// FuzzIMAPServer sends any lines, after a login, to the IMAP server over
// a pipe: it must not crash or hang, and the Maildir must still list.
func FuzzIMAPServer(f *testing.F) {
	for _, s := range []string{"a SELECT INBOX\na FETCH 1:* (FLAGS BODY.PEEK[] ENVELOPE BODYSTRUCTURE RFC822.SIZE)\n",
		"a SELECT INBOX\na SEARCH OR TEXT one NOT FLAGGED\na UID SEARCH 1:*\n", "a SELECT INBOX\na STORE 1 +FLAGS (\\Deleted)\na EXPUNGE\n",
		"a EXAMINE INBOX\na STORE * FLAGS (\\Seen)\n", "a LIST \"\" *\na STATUS INBOX (MESSAGES UNSEEN SIZE)\na CREATE x\n",
		"a APPEND INBOX {5}\nhello\n", "a SELECT INBOX\na FETCH 1 BODY[1.2.MIME]<0.10>\na IDLE\nDONE\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		md, _ := OpenMaildir(t.TempDir())
		md.Deliver(strings.NewReader("Subject: one\n\n.a dot line\nbody\n"))
		md.Deliver(strings.NewReader("Subject: two\nContent-Type: multipart/mixed; boundary=x\n\n--x\n\npart\n--x--\n"))
		s := &Server{Maildir: md}
		l := &pipeListener{c: make(chan net.Conn, 1), done: make(chan struct{})}
		c1, c2 := net.Pipe()
		l.c <- c1
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { s.ServeIMAP(ctx, l); close(done) }()
		go func() {
			c2.SetDeadline(time.Now().Add(5 * time.Second))
			c2.Write([]byte("a LOGIN x y\r\n"))
			for line := range strings.SplitSeq(in, "\n") {
				if _, err := c2.Write([]byte(line + "\r\n")); err != nil {
					break
				}
			}
			c2.Write([]byte("z LOGOUT\r\n"))
		}()
		c2.SetReadDeadline(time.Now().Add(5 * time.Second))
		io.Copy(io.Discard, c2)
		c2.Close()
		cancel()
		<-done
		if _, err := md.List(); err != nil {
			t.Fatal(err)
		}
	})
}
