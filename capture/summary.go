package capture

import (
	"encoding/binary"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Summary is the packet in one line, as tcpdump -nn prints it (time of day
// first).
func (p *Packet) Summary() string {
	var b strings.Builder
	b.WriteString(p.Time.Format("15:04:05.000000"))
	b.WriteByte(' ')
	b.WriteString(p.Line())
	return b.String()
}

// Line is the summary without the time.
func (p *Packet) Line() string {
	pk := p.packet
	if arp, ok := pk.Layer(layers.LayerTypeARP).(*layers.ARP); ok {
		sip, tip := net.IP(arp.SourceProtAddress), net.IP(arp.DstProtAddress)
		if arp.Operation == layers.ARPRequest {
			return fmt.Sprintf("ARP, Request who-has %s tell %s, length %d", tip, sip, p.Length)
		}
		return fmt.Sprintf("ARP, Reply %s is-at %s, length %d", sip, net.HardwareAddr(arp.SourceHwAddress), p.Length)
	}
	var proto, src, dst string
	var bad []string
	switch ip := pk.NetworkLayer().(type) {
	case *layers.IPv4:
		proto, src, dst = "IP", ip.SrcIP.String(), ip.DstIP.String()
		if !ipv4ChecksumOK(ip) {
			bad = append(bad, "bad ip cksum")
		}
	case *layers.IPv6:
		proto, src, dst = "IP6", ip.SrcIP.String(), ip.DstIP.String()
	case nil:
		if el := pk.ErrorLayer(); el != nil {
			return fmt.Sprintf("[undecodable: %v], length %d", el.Error(), p.Length)
		}
		if ll := pk.LinkLayer(); ll != nil {
			return fmt.Sprintf("%s, length %d", ll.LayerType(), p.Length)
		}
		return fmt.Sprintf("unknown link type %s, length %d", p.Link, p.Length)
	default:
		proto = pk.NetworkLayer().LayerType().String()
	}
	var rest string
	switch t := pk.TransportLayer().(type) {
	case *layers.TCP:
		src, dst = src+"."+strconv.Itoa(int(t.SrcPort)), dst+"."+strconv.Itoa(int(t.DstPort))
		rest = fmt.Sprintf("Flags [%s], seq %d", tcpFlags(t), t.Seq)
		if n := len(t.Payload); n > 0 {
			rest = fmt.Sprintf("Flags [%s], seq %d:%d", tcpFlags(t), t.Seq, t.Seq+uint32(n))
		}
		if t.ACK {
			rest += fmt.Sprintf(", ack %d", t.Ack)
		}
		rest += fmt.Sprintf(", win %d, length %d", t.Window, len(t.Payload))
		if ok, known := transportChecksumOK(pk, t.Contents, t.Payload); known && !ok {
			bad = append(bad, "bad tcp cksum")
		}
		if line := httpLine(t.Payload); line != "" {
			rest += ": HTTP: " + line
		}
	case *layers.UDP:
		src, dst = src+"."+strconv.Itoa(int(t.SrcPort)), dst+"."+strconv.Itoa(int(t.DstPort))
		rest = fmt.Sprintf("UDP, length %d", len(t.Payload))
		if t.Checksum != 0 {
			if ok, known := transportChecksumOK(pk, t.Contents, t.Payload); known && !ok {
				bad = append(bad, "bad udp cksum")
			}
		}
		if dns, ok := pk.Layer(layers.LayerTypeDNS).(*layers.DNS); ok {
			rest = dnsLine(dns)
		}
	default:
		switch ic := pk.Layer(layers.LayerTypeICMPv4).(type) {
		case *layers.ICMPv4:
			rest = fmt.Sprintf("ICMP %s, id %d, seq %d, length %d", icmpName(ic.TypeCode), ic.Id, ic.Seq, len(ic.Payload)+8)
		}
		if ic, ok := pk.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6); ok {
			rest = fmt.Sprintf("ICMP6, %s, length %d", strings.ToLower(ic.TypeCode.String()), len(ic.Contents)+len(ic.Payload))
		}
		if rest == "" {
			rest = fmt.Sprintf("length %d", p.Length)
		}
	}
	line := fmt.Sprintf("%s %s > %s: %s", proto, src, dst, rest)
	if len(bad) > 0 {
		line += " [" + strings.Join(bad, ", ") + "]"
	}
	if el := pk.ErrorLayer(); el != nil {
		line += " [truncated or malformed: " + el.Error().Error() + "]"
	}
	return line
}

func tcpFlags(t *layers.TCP) string {
	var f string
	for _, x := range []struct {
		on bool
		c  string
	}{{t.FIN, "F"}, {t.SYN, "S"}, {t.RST, "R"}, {t.PSH, "P"}, {t.URG, "U"}, {t.ECE, "E"}, {t.CWR, "W"}} {
		if x.on {
			f += x.c
		}
	}
	if t.ACK {
		f += "."
	}
	if f == "" {
		f = "none"
	}
	return f
}

func icmpName(tc layers.ICMPv4TypeCode) string {
	switch tc.Type() {
	case layers.ICMPv4TypeEchoRequest:
		return "echo request"
	case layers.ICMPv4TypeEchoReply:
		return "echo reply"
	}
	return strings.ToLower(tc.String())
}

// httpLine is an HTTP request or status line at the start of a payload.
func httpLine(b []byte) string {
	end := strings.IndexAny(string(b[:min(len(b), 200)]), "\r\n")
	if end <= 0 {
		return ""
	}
	line := string(b[:end])
	if strings.HasPrefix(line, "HTTP/1.") {
		return line
	}
	f := strings.Fields(line)
	if len(f) == 3 && strings.HasPrefix(f[2], "HTTP/1.") {
		for _, m := range []string{"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"} {
			if f[0] == m {
				return line
			}
		}
	}
	return ""
}

func dnsLine(d *layers.DNS) string {
	var b strings.Builder
	if d.QR {
		fmt.Fprintf(&b, "DNS response %d %s", d.ID, strings.ToLower(d.ResponseCode.String()))
	} else {
		fmt.Fprintf(&b, "DNS query %d", d.ID)
	}
	for _, q := range d.Questions {
		fmt.Fprintf(&b, " %s? %s", q.Type, q.Name)
	}
	if d.QR {
		fmt.Fprintf(&b, ", %d answer%s", len(d.Answers), map[bool]string{true: "", false: "s"}[len(d.Answers) == 1])
		for _, a := range d.Answers {
			fmt.Fprintf(&b, " %s %s", a.Type, rdata(a))
		}
	}
	return b.String()
}

func rdata(a layers.DNSResourceRecord) string {
	switch {
	case a.IP != nil:
		return a.IP.String()
	case len(a.CNAME) > 0:
		return string(a.CNAME)
	case len(a.NS) > 0:
		return string(a.NS)
	case len(a.PTR) > 0:
		return string(a.PTR)
	case a.MX.Name != nil:
		return fmt.Sprintf("%d %s", a.MX.Preference, a.MX.Name)
	}
	return fmt.Sprintf("(%d bytes)", len(a.Data))
}

// sum16 is the Internet checksum's one's complement sum (RFC 1071).
func sum16(b []byte, s uint32) uint32 {
	for len(b) >= 2 {
		s += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

func ipv4ChecksumOK(ip *layers.IPv4) bool {
	return fold(sum16(ip.Contents, 0)) == 0xffff
}

// transportChecksumOK verifies a TCP or UDP checksum with the IP
// pseudo-header; known is false when the segment was cut by the snap
// length (the checksum cannot be checked).
func transportChecksumOK(pk gopacket.Packet, header, payload []byte) (ok, known bool) {
	var s uint32
	length := len(header) + len(payload)
	var proto uint8
	switch ip := pk.NetworkLayer().(type) {
	case *layers.IPv4:
		if int(ip.Length) != int(ip.IHL)*4+length {
			return false, false
		}
		s = sum16(ip.SrcIP.To4(), s)
		s = sum16(ip.DstIP.To4(), s)
		proto = uint8(ip.Protocol)
	case *layers.IPv6:
		if int(ip.Length) != length {
			return false, false
		}
		s = sum16(ip.SrcIP.To16(), s)
		s = sum16(ip.DstIP.To16(), s)
		proto = uint8(ip.NextHeader)
	default:
		return false, false
	}
	s += uint32(proto) + uint32(length)
	s = sum16(header, s)
	// The payload may be odd-length after an even header: sum as one run.
	if len(header)%2 == 1 {
		return false, false
	}
	s = sum16(payload, s)
	return fold(s) == 0xffff, true
}
