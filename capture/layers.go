package capture

import (
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Layer is one layer of a packet: where its header starts in the packet,
// how long the header is, and its fields in order.
type Layer struct {
	Name   string  `json:"name"`
	Offset int     `json:"offset"`
	Length int     `json:"length"`
	Fields []Field `json:"fields,omitempty"`
}

// Field is a named value of a layer's header.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Layers describes the layer cake, outermost first; the payload that no
// layer decodes comes last as "Payload".
func (p *Packet) Layers() []Layer {
	var out []Layer
	off := 0
	for _, l := range p.pk().Layers() {
		n := len(l.LayerContents())
		layer := Layer{Name: l.LayerType().String(), Offset: off, Length: n, Fields: fields(p, l)}
		if l.LayerType() == gopacket.LayerTypePayload {
			layer.Fields = []Field{{"bytes", fmt.Sprint(n)}}
		}
		out = append(out, layer)
		off += n
	}
	return out
}

func f(name string, v any) Field { return Field{name, fmt.Sprint(v)} }

func check(ok bool) string {
	if ok {
		return "correct"
	}
	return "WRONG"
}

func fields(p *Packet, l any) []Field {
	switch x := l.(type) {
	case *layers.Ethernet:
		return []Field{f("dst", x.DstMAC), f("src", x.SrcMAC), f("type", x.EthernetType)}
	case *layers.Loopback:
		return []Field{f("family", x.Family)}
	case *layers.LinuxSLL:
		return []Field{f("packet type", x.PacketType), f("address", net.HardwareAddr(x.Addr)), f("protocol", x.EthernetType)}
	case *layers.IPv4:
		return []Field{f("version", x.Version), f("header length", int(x.IHL)*4), f("tos", fmt.Sprintf("0x%02x", x.TOS)), f("total length", x.Length),
			f("id", x.Id), f("flags", x.Flags), f("fragment offset", x.FragOffset), f("ttl", x.TTL), f("protocol", x.Protocol),
			f("checksum", fmt.Sprintf("0x%04x (%s)", x.Checksum, check(ipv4ChecksumOK(x)))), f("src", x.SrcIP), f("dst", x.DstIP)}
	case *layers.IPv6:
		return []Field{f("version", x.Version), f("traffic class", x.TrafficClass), f("flow label", x.FlowLabel), f("payload length", x.Length),
			f("next header", x.NextHeader), f("hop limit", x.HopLimit), f("src", x.SrcIP), f("dst", x.DstIP)}
	case *layers.TCP:
		ok, known := transportChecksumOK(p.pk().NetworkLayer(), x.Contents, x.Payload)
		sum := fmt.Sprintf("0x%04x", x.Checksum)
		if known {
			sum += " (" + check(ok) + ")"
		}
		fs := []Field{f("src port", int(x.SrcPort)), f("dst port", int(x.DstPort)), f("seq", x.Seq), f("ack", x.Ack), f("data offset", int(x.DataOffset)*4),
			f("flags", tcpFlags(x)), f("window", x.Window), f("checksum", sum), f("urgent", x.Urgent)}
		for _, o := range x.Options {
			fs = append(fs, f("option", o))
		}
		return fs
	case *layers.UDP:
		ok, known := transportChecksumOK(p.pk().NetworkLayer(), x.Contents, x.Payload)
		sum := fmt.Sprintf("0x%04x", x.Checksum)
		if x.Checksum == 0 {
			sum += " (none)"
		} else if known {
			sum += " (" + check(ok) + ")"
		}
		return []Field{f("src port", int(x.SrcPort)), f("dst port", int(x.DstPort)), f("length", x.Length), f("checksum", sum)}
	case *layers.ICMPv4:
		return []Field{f("type", x.TypeCode), f("checksum", fmt.Sprintf("0x%04x", x.Checksum)), f("id", x.Id), f("seq", x.Seq)}
	case *layers.ICMPv6:
		return []Field{f("type", x.TypeCode), f("checksum", fmt.Sprintf("0x%04x", x.Checksum))}
	case *layers.ARP:
		return []Field{f("operation", x.Operation), f("sender hw", net.HardwareAddr(x.SourceHwAddress)), f("sender ip", net.IP(x.SourceProtAddress)),
			f("target hw", net.HardwareAddr(x.DstHwAddress)), f("target ip", net.IP(x.DstProtAddress))}
	case *layers.DNS:
		fs := []Field{f("id", x.ID), f("response", x.QR), f("opcode", x.OpCode), f("rcode", x.ResponseCode)}
		for _, q := range x.Questions {
			fs = append(fs, f("question", fmt.Sprintf("%s %s %s", q.Name, q.Class, q.Type)))
		}
		for _, a := range x.Answers {
			fs = append(fs, f("answer", fmt.Sprintf("%s %d %s %s", a.Name, a.TTL, a.Type, rdata(a))))
		}
		return fs
	}
	return nil
}

// WriteVerbose writes the packet as its layer cake: each layer's header
// with offset, length and fields, then the bytes as hex (tcpdump -X).
func (p *Packet) WriteVerbose(w io.Writer) error {
	fmt.Fprintf(w, "%s, %d bytes on the wire, %d captured\n", p.Time.Format(time.RFC3339Nano), p.Length, p.Captured)
	for i, l := range p.Layers() {
		fmt.Fprintf(w, "%s%s: bytes %d-%d (%d)\n", strings.Repeat("  ", i), l.Name, l.Offset, l.Offset+l.Length, l.Length)
		for _, fl := range l.Fields {
			fmt.Fprintf(w, "%s  %s: %s\n", strings.Repeat("  ", i), fl.Name, fl.Value)
		}
	}
	dump := hex.Dump(p.data)
	_, err := io.WriteString(w, dump)
	return err
}

// JSON is the packet as netkit decode --json prints it.
type JSON struct {
	Time     time.Time `json:"time"`
	Length   int       `json:"length"`
	Captured int       `json:"captured"`
	Summary  string    `json:"summary"`
	Layers   []Layer   `json:"layers"`
}

// JSON describes the packet for encoding.
func (p *Packet) JSON() JSON {
	return JSON{Time: p.Time, Length: p.Length, Captured: p.Captured, Summary: p.Line(), Layers: p.Layers()}
}
