package inetd

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/netkit-dev/netkit/server"
)

// Chat is a chat room. Each line a member sends goes to every other member
// as "<nick> line"; members are told when someone joins, leaves or renames
// with "/nick NAME". The server's console can take part: Console receives
// everything said, and Say speaks as "server".
//
// One Chat is one room: give every connection the same Chat.
type Chat struct {
	server.Base
	// Console, if set, receives every line said in the room and every
	// notice.
	Console io.Writer
	// MaxLine caps a line; longer ones are split. If zero, 4096 bytes.
	MaxLine int

	mu      sync.Mutex
	members map[server.Conn]*member
	nicks   map[string]bool
	seq     int
}

type member struct {
	nick string
	buf  []byte // a line not yet complete
}

// NewChat returns an empty room.
func NewChat() *Chat { return &Chat{} }

func (ch *Chat) maxLine() int {
	if ch.MaxLine > 0 {
		return ch.MaxLine
	}
	return 4096
}

func (ch *Chat) OnOpen(c server.Conn) {
	ch.mu.Lock()
	if ch.members == nil {
		ch.members, ch.nicks = map[server.Conn]*member{}, map[string]bool{}
	}
	ch.seq++
	nick := fmt.Sprintf("guest%d", ch.seq)
	for ch.nicks[nick] {
		ch.seq++
		nick = fmt.Sprintf("guest%d", ch.seq)
	}
	ch.nicks[nick] = true
	// The join notice goes to those here now: one who joins after this
	// is told "n others here" and must not hear of this join too.
	to := ch.others(c)
	ch.members[c] = &member{nick: nick}
	ch.mu.Unlock()
	c.Write(fmt.Appendf(nil, "* welcome, %s; %d other%s here; /nick NAME renames you\n", nick, len(to), plural(len(to))))
	ch.send(to, fmt.Sprintf("* %s joined\n", nick))
}

func (ch *Chat) OnData(c server.Conn, p []byte) {
	ch.mu.Lock()
	m := ch.members[c]
	if m == nil {
		ch.mu.Unlock()
		return
	}
	m.buf = append(m.buf, p...)
	var lines []string
	for {
		i := bytes.IndexByte(m.buf, '\n')
		if i < 0 {
			if len(m.buf) >= ch.maxLine() {
				lines = append(lines, string(m.buf[:ch.maxLine()]))
				m.buf = append(m.buf[:0], m.buf[ch.maxLine():]...)
				continue
			}
			break
		}
		lines = append(lines, strings.TrimRight(string(m.buf[:i]), "\r"))
		m.buf = m.buf[i+1:]
	}
	if len(m.buf) == 0 {
		m.buf = nil // let the backing array go
	}
	ch.mu.Unlock()
	for _, l := range lines {
		ch.say(c, l)
	}
}

// say handles one complete line from c.
func (ch *Chat) say(c server.Conn, line string) {
	if rest, ok := strings.CutPrefix(line, "/nick"); ok && (rest == "" || rest[0] == ' ') {
		ch.rename(c, strings.TrimSpace(rest))
		return
	}
	ch.mu.Lock()
	m := ch.members[c]
	ch.mu.Unlock()
	if m == nil {
		return
	}
	ch.broadcast(c, fmt.Sprintf("<%s> %s\n", ch.nickOf(c), line))
}

func (ch *Chat) rename(c server.Conn, nick string) {
	if nick == "" || strings.ContainsAny(nick, " \t<>*") || len(nick) > 32 {
		c.Write([]byte("* a nick is 1 to 32 characters without spaces, '<', '>' or '*'\n"))
		return
	}
	ch.mu.Lock()
	m := ch.members[c]
	if m == nil {
		ch.mu.Unlock()
		return
	}
	if ch.nicks[nick] {
		ch.mu.Unlock()
		c.Write(fmt.Appendf(nil, "* %s is taken\n", nick))
		return
	}
	old := m.nick
	delete(ch.nicks, old)
	ch.nicks[nick] = true
	m.nick = nick
	ch.mu.Unlock()
	c.Write(fmt.Appendf(nil, "* you are now %s\n", nick))
	ch.broadcast(c, fmt.Sprintf("* %s is now %s\n", old, nick))
}

func (ch *Chat) nickOf(c server.Conn) string {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if m := ch.members[c]; m != nil {
		return m.nick
	}
	return ""
}

// OnEOF: a member who has stopped sending has left the room.
func (ch *Chat) OnEOF(c server.Conn) { c.Close() }

func (ch *Chat) OnClose(c server.Conn, err error) {
	ch.mu.Lock()
	m := ch.members[c]
	if m != nil {
		delete(ch.members, c)
		delete(ch.nicks, m.nick)
	}
	ch.mu.Unlock()
	if m != nil {
		ch.broadcast(nil, fmt.Sprintf("* %s left\n", m.nick))
	}
}

// Say speaks to the room as "server", from the console.
func (ch *Chat) Say(line string) {
	ch.broadcast(nil, fmt.Sprintf("<server> %s\n", strings.TrimRight(line, "\r\n")))
}

// Members returns the nicks in the room.
func (ch *Chat) Members() []string {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	var out []string
	for _, m := range ch.members {
		out = append(out, m.nick)
	}
	return out
}

// broadcast sends msg to every member but from, and to the console.
func (ch *Chat) broadcast(from server.Conn, msg string) {
	ch.mu.Lock()
	to := ch.others(from)
	ch.mu.Unlock()
	ch.send(to, msg)
}

// others lists the members but one; ch.mu must be held.
func (ch *Chat) others(but server.Conn) []server.Conn {
	to := make([]server.Conn, 0, len(ch.members))
	for c := range ch.members {
		if c != but {
			to = append(to, c)
		}
	}
	return to
}

// send writes msg to each of to, and to the console.
func (ch *Chat) send(to []server.Conn, msg string) {
	b := []byte(msg)
	for _, c := range to {
		c.Write(b)
	}
	if ch.Console != nil {
		ch.mu.Lock()
		io.WriteString(ch.Console, msg)
		ch.mu.Unlock()
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

var _ server.Handler = (*Chat)(nil)
