// Package inetd implements the classic small Internet services as
// handlers for package server: echo (RFC 862), discard (RFC 863), daytime
// (RFC 867), time (RFC 868), chargen (RFC 864), qotd (RFC 865), a chat
// room, and the tutorials' hello server that thanks each client for
// connecting. Each runs over TCP with any server engine; those with a UDP
// form in their RFC also implement server.PacketHandler.
//
// [Lookup] finds a service by name, with its well-known port.
package inetd

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"sort"
	"time"

	"github.com/netkit-dev/netkit/server"
)

// Service describes one service.
type Service struct {
	Name string
	// Port is the service's well-known port (0 for services that have
	// none); netkit serves on 12345 unless told otherwise.
	Port uint16
	// RFC is the number of the RFC that defines it, or 0.
	RFC int
	// Summary says what it does in one line.
	Summary string
	// New returns a fresh stream handler.
	New func() server.Handler
	// NewPacket returns a fresh datagram handler, or is nil for a service
	// with no UDP form.
	NewPacket func() server.PacketHandler
}

var services = []Service{
	{Name: "echo", Port: 7, RFC: 862, Summary: "sends back every byte it receives",
		New: func() server.Handler { return Echo{} }, NewPacket: func() server.PacketHandler { return Echo{} }},
	{Name: "discard", Port: 9, RFC: 863, Summary: "reads and throws away everything",
		New: func() server.Handler { return Discard{} }, NewPacket: func() server.PacketHandler { return Discard{} }},
	{Name: "daytime", Port: 13, RFC: 867, Summary: "sends the date and time as text, then closes",
		New: func() server.Handler { return &Daytime{} }, NewPacket: func() server.PacketHandler { return &Daytime{} }},
	{Name: "time", Port: 37, RFC: 868, Summary: "sends seconds since 1900 as 32 bits, then closes",
		New: func() server.Handler { return &Time{} }, NewPacket: func() server.PacketHandler { return &Time{} }},
	{Name: "chargen", Port: 19, RFC: 864, Summary: "sends lines of characters until the client closes",
		New: func() server.Handler { return &Chargen{} }, NewPacket: func() server.PacketHandler { return &Chargen{} }},
	{Name: "qotd", Port: 17, RFC: 865, Summary: "sends a quotation, then closes",
		New: func() server.Handler { return &QOTD{} }, NewPacket: func() server.PacketHandler { return &QOTD{} }},
	{Name: "chat", Summary: "a chat room: each line goes to everyone else; /nick NAME renames",
		New: func() server.Handler { return NewChat() }},
	{Name: "hello", Summary: "thanks the client for connecting, then closes (the tutorials' server)",
		New: func() server.Handler { return Hello{} }},
}

// Lookup returns the service called name.
func Lookup(name string) (Service, bool) {
	for _, s := range services {
		if s.Name == name {
			return s, true
		}
	}
	return Service{}, false
}

// Services returns every service, sorted by name.
func Services() []Service {
	out := append([]Service(nil), services...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Echo sends back every byte it receives (RFC 862), over TCP and UDP.
type Echo struct{ server.Base }

func (Echo) OnData(c server.Conn, p []byte) { c.Write(p) }

func (Echo) ServePacket(w server.PacketWriter, p []byte, from netip.AddrPort) { w.WriteTo(p, from) }

// Discard throws away everything it receives (RFC 863).
type Discard struct{ server.Base }

func (Discard) ServePacket(server.PacketWriter, []byte, netip.AddrPort) {}

// Daytime sends the current date and time as a line of text (RFC 867),
// then closes. Over UDP it answers each datagram with the line.
type Daytime struct {
	server.Base
	// Now tells the time. If nil, time.Now.
	Now func() time.Time
}

// DaytimeFormat is the layout of a daytime line, before its CRLF: RFC 867
// leaves the syntax free; this is RFC 1123's.
const DaytimeFormat = "Mon, 02 Jan 2006 15:04:05 -0700"

func (d *Daytime) line() []byte {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	return []byte(now().Format(DaytimeFormat) + "\r\n")
}

func (d *Daytime) OnOpen(c server.Conn) {
	c.Write(d.line())
	c.Close()
}

func (d *Daytime) ServePacket(w server.PacketWriter, _ []byte, from netip.AddrPort) {
	w.WriteTo(d.line(), from)
}

// Time sends the time as the number of seconds since 1900-01-01 00:00 UTC
// in 32 bits, big-endian (RFC 868), then closes. The count wraps in 2036,
// as the RFC's does.
type Time struct {
	server.Base
	Now func() time.Time
}

// Epoch1900 is the number of seconds from 1900-01-01 to 1970-01-01.
const Epoch1900 = 2208988800

// TimeBytes encodes t as RFC 868 does.
func TimeBytes(t time.Time) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(t.Unix()+Epoch1900))
}

func (t *Time) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *Time) OnOpen(c server.Conn) {
	c.Write(TimeBytes(t.now()))
	c.Close()
}

func (t *Time) ServePacket(w server.PacketWriter, _ []byte, from netip.AddrPort) {
	w.WriteTo(TimeBytes(t.now()), from)
}

// Hello greets each client with "Thank you for connecting" and closes, as
// the tutorials' first server does.
type Hello struct{ server.Base }

// HelloMessage is what Hello sends.
const HelloMessage = "Thank you for connecting\n"

func (Hello) OnOpen(c server.Conn) {
	c.Write([]byte(HelloMessage))
	c.Close()
}

// QOTD sends a quotation of fewer than 512 characters (RFC 865), then
// closes. Over UDP it answers each datagram with one.
type QOTD struct {
	server.Base
	// Quotes to choose from at random. If empty, netkit's own.
	Quotes []string
}

// DefaultQuotes are netkit's own sayings about networks.
var DefaultQuotes = []string{
	"Every packet is a letter with no promise that the post will deliver it.",
	"Reliability is built from unreliable parts: number the pieces and ask again.",
	"The network is the layers; the layers are agreements.",
	"A port is a door; a firewall decides who may knock.",
	"Send only what was asked for, accept what you can understand.",
	"Latency is a distance; bandwidth is a width; you cannot trade one for the other.",
	"DNS is a phone book that every reader keeps a page of.",
}

func (q *QOTD) quote() []byte {
	qs := q.Quotes
	if len(qs) == 0 {
		qs = DefaultQuotes
	}
	s := qs[rand.IntN(len(qs))]
	if len(s) > 510 {
		s = s[:510]
	}
	return []byte(s + "\r\n")
}

func (q *QOTD) OnOpen(c server.Conn) {
	c.Write(q.quote())
	c.Close()
}

func (q *QOTD) ServePacket(w server.PacketWriter, _ []byte, from netip.AddrPort) {
	w.WriteTo(q.quote(), from)
}

var (
	_ server.Handler       = Echo{}
	_ server.PacketHandler = Echo{}
	_ server.Handler       = Discard{}
	_ server.PacketHandler = Discard{}
	_ server.Handler       = (*Daytime)(nil)
	_ server.PacketHandler = (*Daytime)(nil)
	_ server.Handler       = (*Time)(nil)
	_ server.PacketHandler = (*Time)(nil)
	_ server.Handler       = (*QOTD)(nil)
	_ server.PacketHandler = (*QOTD)(nil)
	_ server.Handler       = Hello{}
)
