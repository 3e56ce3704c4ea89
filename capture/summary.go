package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Summary is the packet in one line, as tcpdump -nn prints it (time of day
// first).
func (p *Packet) Summary() string { return string(p.AppendSummary(nil)) }

// AppendSummary appends the summary to b: with a reused b, a line costs
// no allocation of its own.
func (p *Packet) AppendSummary(b []byte) []byte {
	b = p.Time.AppendFormat(b, "15:04:05.000000")
	b = append(b, ' ')
	return p.AppendLine(b)
}

// Line is the summary without the time.
func (p *Packet) Line() string { return string(p.AppendLine(nil)) }

// AppendLine appends the line to b.
func (p *Packet) AppendLine(b []byte) []byte {
	if out, ok := p.appendFast(b); ok {
		return out
	}
	return p.appendSlow(b)
}

// appendSlow writes the line from gopacket's full decode.
func (p *Packet) appendSlow(b []byte) []byte {
	pk := p.pk()
	if arp, ok := pk.Layer(layers.LayerTypeARP).(*layers.ARP); ok {
		sip, tip := net.IP(arp.SourceProtAddress), net.IP(arp.DstProtAddress)
		if arp.Operation == layers.ARPRequest {
			return fmt.Appendf(b, "ARP, Request who-has %s tell %s, length %d", tip, sip, p.Length)
		}
		return fmt.Appendf(b, "ARP, Reply %s is-at %s, length %d", sip, net.HardwareAddr(arp.SourceHwAddress), p.Length)
	}
	var proto string
	var src, dst netip.Addr
	var bad []string
	switch ip := pk.NetworkLayer().(type) {
	case *layers.IPv4:
		proto = "IP"
		src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
		dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
		if !ipv4ChecksumOK(ip) {
			bad = append(bad, "bad ip cksum")
		}
	case *layers.IPv6:
		proto = "IP6"
		src, _ = netip.AddrFromSlice(ip.SrcIP)
		dst, _ = netip.AddrFromSlice(ip.DstIP)
	case nil:
		if el := pk.ErrorLayer(); el != nil {
			return fmt.Appendf(b, "[undecodable: %v], length %d", el.Error(), p.Length)
		}
		if ll := pk.LinkLayer(); ll != nil {
			return fmt.Appendf(b, "%s, length %d", ll.LayerType(), p.Length)
		}
		return fmt.Appendf(b, "unknown link type %s, length %d", p.Link, p.Length)
	default:
		proto = pk.NetworkLayer().LayerType().String()
		src, _ = netip.AddrFromSlice(pk.NetworkLayer().NetworkFlow().Src().Raw())
		dst, _ = netip.AddrFromSlice(pk.NetworkLayer().NetworkFlow().Dst().Raw())
	}
	b = append(b, proto...)
	b = append(b, ' ')
	if out, more, ok := appendTransport(b, pk.NetworkLayer(), pk.TransportLayer(), dnsOf(pk), src, dst); ok {
		b, bad = out, append(bad, more...)
	} else {
		b = appendEndpoints(b, src, dst, -1, -1)
		var rest string
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
		b = append(b, rest...)
	}
	b = appendBad(b, bad)
	if el := pk.ErrorLayer(); el != nil && !appLayerFailed(pk) {
		b = append(b, " [truncated or malformed: "...)
		b = append(b, el.Error().Error()...)
		b = append(b, ']')
	}
	return b
}

// appendEndpoints writes "src[.sp] > dst[.dp]: " (a port of -1: none).
func appendEndpoints(b []byte, src, dst netip.Addr, sp, dp int) []byte {
	b = src.AppendTo(b)
	if sp >= 0 {
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(sp), 10)
	}
	b = append(b, " > "...)
	b = dst.AppendTo(b)
	if dp >= 0 {
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(dp), 10)
	}
	return append(b, ": "...)
}

// appendTransport writes the addresses and ports and the rest of the line
// of a TCP or UDP packet, with the checksums found wrong; ok is false for
// other transports, and nothing is written then.
func appendTransport(b []byte, nl gopacket.NetworkLayer, tl gopacket.Layer, dns *layers.DNS, src, dst netip.Addr) (out []byte, bad []string, ok bool) {
	num := func(s string, v uint64) {
		b = append(b, s...)
		b = strconv.AppendUint(b, v, 10)
	}
	switch t := tl.(type) {
	case *layers.TCP:
		b = appendEndpoints(b, src, dst, int(t.SrcPort), int(t.DstPort))
		b = append(b, "Flags ["...)
		b = appendTCPFlags(b, t)
		num("], seq ", uint64(t.Seq))
		if n := len(t.Payload); n > 0 {
			num(":", uint64(t.Seq+uint32(n)))
		}
		if t.ACK {
			num(", ack ", uint64(t.Ack))
		}
		num(", win ", uint64(t.Window))
		num(", length ", uint64(len(t.Payload)))
		if ok, known := transportChecksumOK(nl, t.Contents, t.Payload); known && !ok {
			bad = append(bad, "bad tcp cksum")
		}
		if line := httpLine(t.Payload); line != "" {
			b = append(b, ": HTTP: "...)
			b = append(b, line...)
		}
	case *layers.UDP:
		b = appendEndpoints(b, src, dst, int(t.SrcPort), int(t.DstPort))
		if t.Checksum != 0 {
			if ok, known := transportChecksumOK(nl, t.Contents, t.Payload); known && !ok {
				bad = append(bad, "bad udp cksum")
			}
		}
		if dns != nil {
			b = append(b, dnsLine(dns)...)
		} else {
			num("UDP, length ", uint64(len(t.Payload)))
		}
	default:
		return b, nil, false
	}
	return b, bad, true
}

// appLayer says whether a layer type is a transport whose data gopacket
// may go on to decode as an application protocol.
func appLayer(t gopacket.LayerType) bool {
	return t == layers.LayerTypeTCP || t == layers.LayerTypeUDP
}

// appLayerFailed says whether the decode failed past TCP or UDP, in an
// application protocol the line does not show (all but DNS): data on
// port 443 that is not TLS is no fault of the packet's.
func appLayerFailed(pk gopacket.Packet) bool {
	if tl, ok := pk.TransportLayer().(interface{ NextLayerType() gopacket.LayerType }); ok {
		next := tl.NextLayerType()
		return next != layers.LayerTypeDNS && next != gopacket.LayerTypePayload
	}
	return false
}

func dnsOf(pk gopacket.Packet) *layers.DNS {
	dns, _ := pk.Layer(layers.LayerTypeDNS).(*layers.DNS)
	return dns
}

func appendBad(b []byte, bad []string) []byte {
	if len(bad) > 0 {
		b = append(b, " ["...)
		b = append(b, strings.Join(bad, ", ")...)
		b = append(b, ']')
	}
	return b
}

// fastDecoder decodes the common packets (TCP, UDP and DNS over IPv4 or
// IPv6, in Ethernet or Linux cooked frames) into layers it reuses, for
// the one-line form: gopacket's DecodingLayerParser, with no allocation
// a layer.
type fastDecoder struct {
	eth     layers.Ethernet
	sll     layers.LinuxSLL
	ip4     layers.IPv4
	ip6     layers.IPv6
	tcp     layers.TCP
	udp     layers.UDP
	dns     layers.DNS
	payload gopacket.Payload
	eth1st  *gopacket.DecodingLayerParser
	sll1st  *gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

var fastDecoders = sync.Pool{New: func() any {
	d := &fastDecoder{}
	common := []gopacket.DecodingLayer{&d.ip4, &d.ip6, &d.tcp, &d.udp, &d.dns, &d.payload}
	d.eth1st = gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, append([]gopacket.DecodingLayer{&d.eth}, common...)...)
	d.sll1st = gopacket.NewDecodingLayerParser(layers.LayerTypeLinuxSLL, append([]gopacket.DecodingLayer{&d.sll}, common...)...)
	return d
}}

// appendFast writes the line of a common packet without gopacket's
// Packet; ok is false for anything else (ARP, ICMP, fragments, other
// links, a layer that does not decode), which the full decode then
// describes.
func (p *Packet) appendFast(b []byte) ([]byte, bool) {
	if p.Link != layers.LinkTypeEthernet && p.Link != layers.LinkTypeLinuxSLL {
		return b, false
	}
	d := fastDecoders.Get().(*fastDecoder)
	defer fastDecoders.Put(d)
	parser := d.eth1st
	if p.Link == layers.LinkTypeLinuxSLL {
		parser = d.sll1st
	}
	if err := parser.DecodeLayers(p.data, &d.decoded); err != nil {
		// What gopacket would decode from TCP or UDP data on a known port
		// (TLS on 443, NTP on 123, ...) is not in the line: stopping
		// there is no failure. Anything else goes to the full decode.
		var unsupported gopacket.UnsupportedLayerType
		if !errors.As(err, &unsupported) || len(d.decoded) == 0 || !appLayer(d.decoded[len(d.decoded)-1]) ||
			gopacket.LayerType(unsupported) == layers.LayerTypeDNS {
			return b, false
		}
	}
	var nl gopacket.NetworkLayer
	var tl gopacket.Layer
	var dns *layers.DNS
	var proto string
	var src, dst netip.Addr
	var bad []string
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			nl, proto = &d.ip4, "IP"
			src, _ = netip.AddrFromSlice(d.ip4.SrcIP.To4())
			dst, _ = netip.AddrFromSlice(d.ip4.DstIP.To4())
			if !ipv4ChecksumOK(&d.ip4) {
				bad = append(bad, "bad ip cksum")
			}
		case layers.LayerTypeIPv6:
			nl, proto = &d.ip6, "IP6"
			src, _ = netip.AddrFromSlice(d.ip6.SrcIP)
			dst, _ = netip.AddrFromSlice(d.ip6.DstIP)
		case layers.LayerTypeTCP:
			tl = &d.tcp
		case layers.LayerTypeUDP:
			tl = &d.udp
		case layers.LayerTypeDNS:
			dns = &d.dns
		}
	}
	if nl == nil || tl == nil {
		return b, false
	}
	b = append(b, proto...)
	b = append(b, ' ')
	b, more, ok := appendTransport(b, nl, tl, dns, src, dst)
	if !ok {
		return b, false
	}
	return appendBad(b, append(bad, more...)), true
}

// appendTCPFlags appends the flags as tcpdump writes them: FSRPUEW, then
// "." for ACK, or "none".
func appendTCPFlags(b []byte, t *layers.TCP) []byte {
	n := len(b)
	for _, x := range [...]struct {
		on bool
		c  byte
	}{{t.FIN, 'F'}, {t.SYN, 'S'}, {t.RST, 'R'}, {t.PSH, 'P'}, {t.URG, 'U'}, {t.ECE, 'E'}, {t.CWR, 'W'}} {
		if x.on {
			b = append(b, x.c)
		}
	}
	if t.ACK {
		b = append(b, '.')
	}
	if len(b) == n {
		b = append(b, "none"...)
	}
	return b
}

func tcpFlags(t *layers.TCP) string { return string(appendTCPFlags(nil, t)) }

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
	head := b[:min(len(b), 200)]
	end := -1
	for i, c := range head {
		if c == '\r' || c == '\n' {
			end = i
			break
		}
	}
	if end <= 0 || !(head[0] >= 'A' && head[0] <= 'Z') {
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
func transportChecksumOK(nl gopacket.NetworkLayer, header, payload []byte) (ok, known bool) {
	var s uint32
	length := len(header) + len(payload)
	var proto uint8
	switch ip := nl.(type) {
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
