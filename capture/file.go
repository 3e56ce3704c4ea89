package capture

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Reader reads packets from a pcap or pcapng stream, one at a time.
type Reader struct {
	pcap   *pcapgo.Reader
	ng     *pcapgo.NgReader
	Format string // "pcap" or "pcapng"
}

// NewReader reads the file header of r and says what it is. Files that
// are neither pcap nor pcapng are refused with the magic number found.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("not a capture file: %d bytes, too short for a header", len(magic))
	}
	switch {
	case bytes.Equal(magic, []byte{0x0a, 0x0d, 0x0d, 0x0a}):
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{})
		if err != nil {
			return nil, fmt.Errorf("pcapng: %w", err)
		}
		return &Reader{ng: ng, Format: "pcapng"}, nil
	case isPcapMagic(magic):
		p, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("pcap: %w", err)
		}
		return &Reader{pcap: p, Format: "pcap"}, nil
	}
	return nil, fmt.Errorf("not a capture file: the magic number is %x, neither pcap's nor pcapng's", magic)
}

func isPcapMagic(m []byte) bool {
	for _, want := range [][]byte{{0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0xc3, 0xd4}, {0x4d, 0x3c, 0xb2, 0xa1}, {0xa1, 0xb2, 0x3c, 0x4d}} {
		if bytes.Equal(m, want) {
			return true
		}
	}
	return false
}

// Next reads the next packet and decodes it; io.EOF at the end. The
// packet's data is its own (not reused by the next call).
func (r *Reader) Next() (*Packet, error) {
	var data []byte
	var ci gopacket.CaptureInfo
	var err error
	link := layers.LinkTypeEthernet
	if r.ng != nil {
		data, ci, err = r.ng.ReadPacketData()
		if err == nil {
			if iface, ierr := r.ng.Interface(ci.InterfaceIndex); ierr == nil {
				link = iface.LinkType
			}
		}
	} else {
		data, ci, err = r.pcap.ReadPacketData()
		link = r.pcap.LinkType()
	}
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil {
		return nil, err
	}
	return Decode(data, link, ci.Timestamp, ci.Length), nil
}

// Packet is one decoded packet.
type Packet struct {
	Time     time.Time
	Length   int // on the wire
	Captured int // in the file (less with a snap length)
	Link     layers.LinkType
	packet   gopacket.Packet // decoded on first use: see pk
	data     []byte
}

// Data is the packet's bytes as captured, from the link header on.
func (p *Packet) Data() []byte { return p.data }

// pk is the packet decoded by gopacket, layer objects and all; the
// one-line form of common packets does without it (see appendFast).
func (p *Packet) pk() gopacket.Packet {
	if p.packet == nil {
		p.packet = gopacket.NewPacket(p.data, p.Link, gopacket.DecodeOptions{NoCopy: true})
	}
	return p.packet
}

// Decode decodes one packet's bytes, as captured on a link of the type.
func Decode(data []byte, link layers.LinkType, t time.Time, length int) *Packet {
	if length < len(data) {
		length = len(data)
	}
	return &Packet{Time: t, Length: length, Captured: len(data), Link: link, data: data}
}
