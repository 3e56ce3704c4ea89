package inetd

import (
	"math/rand/v2"
	"net/netip"

	"github.com/netkit-dev/netkit/server"
)

// Chargen sends lines of characters (RFC 864): 72 printable ASCII
// characters per line, each line starting one character further along the
// 95-character cycle, until the client closes. Over UDP it answers each
// datagram with 0 to 512 characters, as the RFC says.
type Chargen struct{ server.Base }

const (
	chargenLine  = 72
	chargenCycle = 95 // ' ' through '~'
)

// chargenPattern holds all 95 lines, each with its CRLF, back to back: the
// stream is this block repeated forever.
var chargenPattern = func() []byte {
	b := make([]byte, 0, chargenCycle*(chargenLine+2))
	for i := range chargenCycle {
		for j := range chargenLine {
			b = append(b, byte(' '+(i+j)%chargenCycle))
		}
		b = append(b, '\r', '\n')
	}
	return b
}()

// ChargenStream returns the first n bytes of the chargen stream.
func ChargenStream(n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		out = append(out, chargenPattern[:min(len(chargenPattern), n-len(out))]...)
	}
	return out
}

// OnOpen starts a writer that sends the stream until a write fails, as it
// does once the client has gone. It runs on its own goroutine so that the
// engine goes on reading (and discarding) what the client sends.
func (Chargen) OnOpen(c server.Conn) {
	go func() {
		for {
			if _, err := c.Write(chargenPattern); err != nil {
				return
			}
		}
	}()
}

func (Chargen) ServePacket(w server.PacketWriter, _ []byte, from netip.AddrPort) {
	w.WriteTo(ChargenStream(rand.IntN(513)), from)
}
