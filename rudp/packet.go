package rudp

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// The kinds of packet.
const (
	kindSyn    = 1 // client -> server: open (ConnID: the client's id)
	kindSynAck = 2 // server -> client: a cookie (ConnID: the client's id)
	kindCookie = 3 // client -> server: the cookie back (ConnID: the server's id)
	kindData   = 4 // data, or the end of it (flagFin); Seq numbers it
	kindAck    = 5 // acknowledgements alone
	kindReset  = 6 // the connection is gone
	kindParity = 7 // FEC parity for the group of data packets from Seq (fec.go)
)

// Flags.
const (
	flagFin    = 1 << 0 // this data packet ends the sender's stream
	flagAckReq = 1 << 1 // answer with an acknowledgement now (keepalive)
	// On handshake packets: the sender decodes parity (flagFEC), and
	// will send it (flagFECSend).
	flagFEC     = 1 << 2
	flagFECSend = 1 << 3
)

const (
	version    = 1
	headerLen  = 27 // up to the SACK blocks
	trailerLen = 4  // CRC32C
	maxSack    = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// block is a run of received sequence numbers, [Start, End).
type block struct{ Start, End uint32 }

// packet is one datagram. Its layout, big-endian:
//
//	0      version (high 4 bits) and kind (low 4)
//	1      flags
//	2-5    connection id of the receiver (of the sender for a SYN)
//	6-9    sequence number (data packets)
//	10-13  cumulative acknowledgement: every number below it arrived
//	14-17  receive window, in packets beyond the acknowledgement
//	18-21  sender's timestamp, microseconds
//	22-25  the timestamp echoed from the packet being acknowledged
//	26     number of SACK blocks, then 8 bytes each (start, end)
//	...    payload
//	last 4 CRC32C of all the bytes before it
type packet struct {
	kind, flags byte
	conn        uint32
	seq, ack    uint32
	window      uint32
	tsval       uint32
	tsecr       uint32
	sack        []block
	payload     []byte
}

// DecodeError is a datagram that is not a valid packet.
type DecodeError struct{ Reason string }

func (e *DecodeError) Error() string { return "rudp: bad packet: " + e.Reason }

var errChecksum = &DecodeError{"checksum mismatch (corrupted on the way)"}

// appendTo encodes p onto b.
func (p *packet) appendTo(b []byte) []byte {
	start := len(b)
	b = append(b, version<<4|p.kind, p.flags)
	b = binary.BigEndian.AppendUint32(b, p.conn)
	b = binary.BigEndian.AppendUint32(b, p.seq)
	b = binary.BigEndian.AppendUint32(b, p.ack)
	b = binary.BigEndian.AppendUint32(b, p.window)
	b = binary.BigEndian.AppendUint32(b, p.tsval)
	b = binary.BigEndian.AppendUint32(b, p.tsecr)
	b = append(b, byte(len(p.sack)))
	for _, s := range p.sack {
		b = binary.BigEndian.AppendUint32(b, s.Start)
		b = binary.BigEndian.AppendUint32(b, s.End)
	}
	b = append(b, p.payload...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

// decode reads a datagram into p; p.payload and p.sack alias b and p's
// own storage.
func (p *packet) decode(b []byte) error {
	if len(b) < headerLen+trailerLen {
		return &DecodeError{fmt.Sprintf("%d bytes, shorter than a header", len(b))}
	}
	body, sum := b[:len(b)-trailerLen], binary.BigEndian.Uint32(b[len(b)-trailerLen:])
	if crc32.Checksum(body, castagnoli) != sum {
		return errChecksum
	}
	if b[0]>>4 != version {
		return &DecodeError{fmt.Sprintf("version %d, want %d", b[0]>>4, version)}
	}
	p.kind, p.flags = b[0]&0x0f, b[1]
	if p.kind < kindSyn || p.kind > kindParity {
		return &DecodeError{fmt.Sprintf("unknown kind %d", p.kind)}
	}
	p.conn = binary.BigEndian.Uint32(b[2:])
	p.seq = binary.BigEndian.Uint32(b[6:])
	p.ack = binary.BigEndian.Uint32(b[10:])
	p.window = binary.BigEndian.Uint32(b[14:])
	p.tsval = binary.BigEndian.Uint32(b[18:])
	p.tsecr = binary.BigEndian.Uint32(b[22:])
	n := int(b[26])
	if n > maxSack {
		return &DecodeError{fmt.Sprintf("%d SACK blocks, at most %d", n, maxSack)}
	}
	rest := body[headerLen:]
	if len(rest) < 8*n {
		return &DecodeError{"SACK blocks cut short"}
	}
	p.sack = p.sack[:0]
	for i := range n {
		s := block{binary.BigEndian.Uint32(rest[8*i:]), binary.BigEndian.Uint32(rest[8*i+4:])}
		if !before(s.Start, s.End) {
			return &DecodeError{fmt.Sprintf("SACK block [%d, %d) is empty or backward", s.Start, s.End)}
		}
		p.sack = append(p.sack, s)
	}
	p.payload = rest[8*n:]
	if p.kind != kindData && p.kind != kindParity && p.kind != kindSynAck && p.kind != kindCookie && len(p.payload) > 0 {
		return &DecodeError{"payload on a packet kind that takes none"}
	}
	return nil
}

// before reports whether sequence number a comes before b, with wrap.
func before(a, b uint32) bool { return int32(a-b) < 0 }
