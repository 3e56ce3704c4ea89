package mail

import (
	"bufio"
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
