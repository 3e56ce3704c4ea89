package mail

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

func randRead(b []byte) { rand.Read(b) }

// pop3Conn is one POP3 session (RFC 1939): AUTHORIZATION, then
// TRANSACTION over a snapshot of the Maildir, then UPDATE at QUIT, when
// the messages marked deleted go.
type pop3Conn struct {
	s     *Server
	c     net.Conn
	br    *bufio.Reader
	bw    *bufio.Writer
	stamp string
	user  string
	msgs  []Stored // nil until logged in
	sizes []int64  // each message's size as RETR sends it, read once at login
	del   []bool
	tls   bool
}

const pop3MaxLine = 1024

func (s *Server) pop3Session(c net.Conn) {
	p := &pop3Conn{s: s, c: c, br: bufio.NewReaderSize(c, pop3MaxLine), bw: bufio.NewWriter(c), stamp: apopTimestamp(s.domain())}
	p.ok("netkit POP3 server ready " + p.stamp)
	for {
		c.SetDeadline(time.Now().Add(10 * time.Minute)) // RFC 1939: at least 10 minutes
		line, err := p.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			p.err("line too long")
			return
		}
		if err != nil {
			return
		}
		cmd, arg, _ := strings.Cut(strings.TrimRight(string(line), "\r\n"), " ")
		if err := p.do(strings.ToUpper(cmd), arg); err != nil {
			return
		}
	}
}

func (p *pop3Conn) ok(msg string) {
	p.bw.WriteString("+OK " + msg + "\r\n")
	p.bw.Flush()
}

func (p *pop3Conn) err(msg string) {
	p.bw.WriteString("-ERR " + msg + "\r\n")
	p.bw.Flush()
}

// do runs one command; an error ends the session.
func (p *pop3Conn) do(cmd, arg string) error {
	switch cmd {
	case "QUIT":
		return p.quit()
	case "CAPA":
		p.bw.WriteString("+OK capability list follows\r\nUSER\r\nSASL PLAIN\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nIMPLEMENTATION netkit\r\n")
		if p.s.TLS != nil && !p.tls {
			p.bw.WriteString("STLS\r\n")
		}
		p.bw.WriteString(".\r\n")
		p.bw.Flush()
		return nil
	case "NOOP":
		p.ok("")
		return nil
	}
	if p.msgs == nil {
		return p.authorization(cmd, arg)
	}
	return p.transaction(cmd, arg)
}

func (p *pop3Conn) authorization(cmd, arg string) error {
	switch cmd {
	case "STLS":
		if p.s.TLS == nil || p.tls {
			p.err("STLS is not offered")
			return nil
		}
		p.ok("begin TLS negotiation")
		tc := tls.Server(p.c, p.s.TLS)
		if err := tc.Handshake(); err != nil {
			return err
		}
		p.c, p.tls = tc, true
		p.br, p.bw = bufio.NewReaderSize(tc, pop3MaxLine), bufio.NewWriter(tc)
	case "USER":
		if arg == "" {
			p.err("USER needs a name")
			return nil
		}
		p.user = arg
		p.ok("send PASS")
	case "PASS":
		if p.user == "" {
			p.err("USER first")
			return nil
		}
		if !p.s.checkUser(p.user, arg) {
			p.user = ""
			time.Sleep(200 * time.Millisecond) // slow guessing down
			p.err("[AUTH] invalid name or password")
			return nil
		}
		return p.login()
	case "AUTH":
		mech, ir, _ := strings.Cut(arg, " ")
		if !strings.EqualFold(mech, "PLAIN") || ir == "" {
			p.err("AUTH PLAIN with an initial response is the mechanism offered")
			return nil
		}
		raw, err := base64.StdEncoding.DecodeString(ir)
		parts := strings.Split(string(raw), "\x00")
		if err != nil || len(parts) != 3 || !p.s.checkUser(parts[1], parts[2]) {
			time.Sleep(200 * time.Millisecond)
			p.err("[AUTH] invalid name or password")
			return nil
		}
		p.user = parts[1]
		return p.login()
	case "APOP":
		name, digest, _ := strings.Cut(arg, " ")
		want := ""
		if pass, ok := p.s.Users[name]; ok {
			want = apopDigest(p.stamp, pass)
		}
		if len(p.s.Users) > 0 && subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(digest))) != 1 {
			time.Sleep(200 * time.Millisecond)
			p.err("[AUTH] invalid name or digest")
			return nil
		}
		p.user = name
		return p.login()
	default:
		p.err("log in first (USER and PASS, or APOP)")
	}
	return nil
}

func (p *pop3Conn) login() error {
	msgs, err := p.s.Maildir.List()
	if err != nil {
		p.err("[SYS/TEMP] cannot read the mailbox")
		return err
	}
	if msgs == nil {
		msgs = []Stored{}
	}
	p.msgs, p.del, p.sizes = msgs, make([]bool, len(msgs)), make([]int64, len(msgs))
	var size int64
	for i, m := range msgs {
		p.sizes[i] = wireSize(m)
		size += p.sizes[i]
	}
	p.ok(fmt.Sprintf("%s has %d messages (%d octets)", p.user, len(msgs), size))
	return nil
}

// wireSize is the size of a message as RETR sends it: with CRLF ends.
func wireSize(m Stored) int64 {
	f, err := os.Open(m.Path)
	if err != nil {
		return m.Size
	}
	defer f.Close()
	var n, lines int64
	buf := make([]byte, 32<<10)
	for {
		k, err := f.Read(buf)
		for _, b := range buf[:k] {
			if b == '\n' {
				lines++
			}
		}
		n += int64(k)
		if err != nil {
			break
		}
	}
	return n + lines
}

// msg reads a message number argument.
func (p *pop3Conn) msg(arg string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(arg))
	if err != nil || n < 1 || n > len(p.msgs) {
		p.err(fmt.Sprintf("no message %q (there are %d)", arg, len(p.msgs)))
		return 0, false
	}
	if p.del[n-1] {
		p.err(fmt.Sprintf("message %d is deleted", n))
		return 0, false
	}
	return n - 1, true
}

func (p *pop3Conn) transaction(cmd, arg string) error {
	switch cmd {
	case "STAT":
		var n int
		var size int64
		for i := range p.msgs {
			if !p.del[i] {
				n++
				size += p.sizes[i]
			}
		}
		p.ok(fmt.Sprintf("%d %d", n, size))
	case "LIST", "UIDL":
		value := func(i int) string {
			if cmd == "LIST" {
				return strconv.FormatInt(p.sizes[i], 10)
			}
			return p.msgs[i].ID
		}
		if arg != "" {
			if i, ok := p.msg(arg); ok {
				p.ok(fmt.Sprintf("%d %s", i+1, value(i)))
			}
			return nil
		}
		p.bw.WriteString("+OK\r\n")
		for i := range p.msgs {
			if !p.del[i] {
				fmt.Fprintf(p.bw, "%d %s\r\n", i+1, value(i))
			}
		}
		p.bw.WriteString(".\r\n")
		p.bw.Flush()
	case "RETR", "TOP":
		num, lines, _ := strings.Cut(arg, " ")
		i, ok := p.msg(num)
		if !ok {
			return nil
		}
		limit := -1
		if cmd == "TOP" {
			n, err := strconv.Atoi(strings.TrimSpace(lines))
			if err != nil || n < 0 {
				p.err("TOP needs a message and a number of lines")
				return nil
			}
			limit = n
		}
		return p.send(p.msgs[i], limit)
	case "DELE":
		if i, ok := p.msg(arg); ok {
			p.del[i] = true
			p.ok(fmt.Sprintf("message %d deleted", i+1))
		}
	case "RSET":
		clear(p.del)
		p.ok("")
	default:
		p.err("unknown command " + strconv.Quote(cmd))
	}
	return nil
}

// send writes a message as a multi-line response: CRLF line ends, lines
// that start with a dot doubled (RFC 1939 section 3); with limit >= 0,
// the header and that many body lines (TOP).
func (p *pop3Conn) send(m Stored, limit int) error {
	f, err := os.Open(m.Path)
	if err != nil {
		p.err("[SYS/TEMP] the message is gone")
		return nil
	}
	defer f.Close()
	p.bw.WriteString("+OK message follows\r\n")
	r := bufio.NewReader(f)
	inBody, bodyLines := false, 0
	for {
		line, err := r.ReadString('\n')
		if line == "" && err != nil {
			break
		}
		line = strings.TrimRight(line, "\r\n")
		if inBody {
			if limit >= 0 && bodyLines >= limit {
				break
			}
			bodyLines++
		} else if line == "" {
			inBody = true
		}
		if strings.HasPrefix(line, ".") {
			p.bw.WriteByte('.')
		}
		p.bw.WriteString(line)
		p.bw.WriteString("\r\n")
		if err == io.EOF {
			break
		}
	}
	p.bw.WriteString(".\r\n")
	return p.bw.Flush()
}

func (p *pop3Conn) quit() error {
	gone := 0
	for i, d := range p.del {
		if d {
			if err := os.Remove(p.msgs[i].Path); err == nil {
				gone++
			}
		}
	}
	if p.msgs != nil {
		p.ok(fmt.Sprintf("netkit POP3 server signing off (%d messages deleted)", gone))
	} else {
		p.ok("netkit POP3 server signing off")
	}
	return errQuit
}
