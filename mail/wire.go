package mail

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// Wire shows a dialogue as it happens: one line each way, "C:" for what
// the client sent and "S:" for what the server answered, with the time
// since Start, and with credentials masked (AUTH arguments, SASL
// exchanges, POP3 PASS). Its zero value writes to nowhere.
type Wire struct {
	W     io.Writer
	Start time.Time

	mu      sync.Mutex
	dir     byte // 'C' or 'S': the direction of the last conn operation
	pending map[byte][]byte
	secret  bool       // the next client lines are a SASL exchange
	skip    int        // server lines to hide (a greeting go-smtp was given)
	first   *WireEvent // the first line: the greeting, and its time
	last    *WireEvent // the last server line
}

// WireEvent is one line of a dialogue.
type WireEvent struct {
	At   time.Duration
	From byte // 'C' or 'S'
	Line string
}

// Conn wraps c so that the Wire knows the direction of each read and
// write.
func (w *Wire) Conn(c net.Conn) net.Conn { return &wireConn{Conn: c, w: w} }

type wireConn struct {
	net.Conn
	w *Wire
}

func (c *wireConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.w.mu.Lock()
	c.w.dir = 'S'
	c.w.mu.Unlock()
	return n, err
}

func (c *wireConn) Write(p []byte) (int, error) {
	c.w.mu.Lock()
	c.w.dir = 'C'
	c.w.mu.Unlock()
	return c.Conn.Write(p)
}

// Write takes the plain text of the dialogue (go-smtp's DebugWriter), in
// the direction of the last conn operation.
func (w *Wire) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.add(w.dir, p)
	return len(p), nil
}

// Sent and Received record text whose direction the caller knows.
func (w *Wire) Sent(p []byte)     { w.mu.Lock(); w.add('C', p); w.mu.Unlock() }
func (w *Wire) Received(p []byte) { w.mu.Lock(); w.add('S', p); w.mu.Unlock() }

func (w *Wire) add(dir byte, p []byte) {
	if dir == 0 {
		dir = 'C'
	}
	if w.W == nil && dir == 'C' {
		return // nobody is shown the client's lines (a message's, say)
	}
	if w.pending == nil {
		w.pending = map[byte][]byte{}
	}
	buf := append(w.pending[dir], p...)
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(buf[:i]), "\r")
		buf = buf[i+1:]
		w.line(dir, line)
	}
	w.pending[dir] = append([]byte(nil), buf...)
}

func (w *Wire) line(dir byte, line string) {
	if dir == 'S' && w.skip > 0 {
		w.skip--
		return
	}
	// The direction comes from the last read or write on the socket, and
	// under TLS a read of the server's (a session ticket) can land between
	// a command's write and its logging: a line that carries credentials,
	// or any line while a secret is being sent that is not shaped like a
	// server's, is the client's whatever the guess, so that it is masked.
	if dir == 'S' && (carriesCredentials(line) || w.secret && !serverShaped(line)) {
		dir = 'C'
	}
	if dir == 'C' {
		line = w.mask(line)
	} else if w.secret && (strings.HasPrefix(line, "2") || strings.HasPrefix(line, "5") || strings.HasPrefix(line, "4") || strings.HasPrefix(line, "+OK") || strings.HasPrefix(line, "-ERR") || imapTagged(line)) {
		w.secret = false
	}
	at := time.Duration(0)
	if !w.Start.IsZero() {
		at = time.Since(w.Start)
	}
	ev := &WireEvent{At: at, From: dir, Line: line}
	if w.first == nil {
		w.first = ev
	}
	if dir == 'S' {
		w.last = ev
	}
	if w.W != nil {
		fmt.Fprintf(w.W, "%8.3f ms %c: %s\n", float64(at.Microseconds())/1000, dir, line)
	}
}

// mask hides credentials in a client line.
func (w *Wire) mask(line string) string {
	upper := strings.ToUpper(line)
	switch {
	case w.secret:
		return "****"
	case strings.HasPrefix(upper, "AUTH "):
		w.secret = true // the exchange goes on until the server's final reply
		f := strings.Fields(line)
		if len(f) > 2 {
			return f[0] + " " + f[1] + " ****"
		}
	case strings.HasPrefix(upper, "PASS "):
		return line[:5] + "****"
	case len(strings.Fields(upper)) >= 4 && strings.Fields(upper)[1] == "LOGIN":
		f := strings.Fields(line)
		return f[0] + " LOGIN " + f[2] + " ****"
	case len(strings.Fields(upper)) >= 3 && strings.Fields(upper)[1] == "AUTHENTICATE":
		w.secret = true
	case strings.HasPrefix(upper, "APOP "):
		f := strings.Fields(line)
		if len(f) == 3 {
			return "APOP " + f[1] + " ****"
		}
	}
	return line
}

// First is the first line seen (the server's greeting), if any.
func (w *Wire) First() (WireEvent, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.first == nil {
		return WireEvent{}, false
	}
	return *w.first, true
}

// LastReply is the last line the server sent, if any.
func (w *Wire) LastReply() (WireEvent, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == nil {
		return WireEvent{}, false
	}
	return *w.last, true
}

// imapTagged says whether a server line is a tagged IMAP reply (the end
// of a command, AUTHENTICATE's included).
func imapTagged(line string) bool {
	f := strings.Fields(line)
	return len(f) >= 2 && f[0] != "*" && f[0] != "+" && (f[1] == "OK" || f[1] == "NO" || f[1] == "BAD")
}

// carriesCredentials says whether a line is a client command that
// carries a password or starts an authentication.
func carriesCredentials(line string) bool {
	f := strings.Fields(strings.ToUpper(line))
	switch {
	case len(f) == 0:
		return false
	case f[0] == "AUTH" || f[0] == "PASS" || f[0] == "APOP":
		return true
	case len(f) >= 2 && imapTag(f[0]) && (f[1] == "LOGIN" || f[1] == "AUTHENTICATE"):
		return true
	}
	return false
}

// imapTag says whether a word is shaped like a command tag (T12).
func imapTag(s string) bool {
	i := 0
	for i < len(s) && s[i] >= 'A' && s[i] <= 'Z' {
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	return i > 0 && j > i && j == len(s)
}

// serverShaped says whether a line looks like a server's: an SMTP reply
// code, POP3's +OK or -ERR, an IMAP untagged, continuation or tagged
// reply.
func serverShaped(line string) bool {
	switch {
	case len(line) >= 3 && line[0] >= '0' && line[0] <= '9' && line[1] >= '0' && line[1] <= '9' && line[2] >= '0' && line[2] <= '9':
		return true
	case strings.HasPrefix(line, "+") || strings.HasPrefix(line, "-ERR") || strings.HasPrefix(line, "* "):
		return true
	}
	return imapTagged(line)
}
