package capture_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/netkit-dev/netkit/capture"
)

// synth builds an Ethernet/IPv4/TCP or UDP frame with correct checksums.
func synth(t testing.TB, tcp bool, payload string) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, SrcIP: net.IPv4(192, 0, 2, 1), DstIP: net.IPv4(198, 51, 100, 7)}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	var err error
	if tcp {
		ip.Protocol = layers.IPProtocolTCP
		seg := &layers.TCP{SrcPort: 40000, DstPort: 80, Seq: 1000, Ack: 2000, ACK: true, PSH: true, Window: 512}
		seg.SetNetworkLayerForChecksum(ip)
		err = gopacket.SerializeLayers(buf, opts, eth, ip, seg, gopacket.Payload(payload))
	} else {
		ip.Protocol = layers.IPProtocolUDP
		dg := &layers.UDP{SrcPort: 5353, DstPort: 53}
		dg.SetNetworkLayerForChecksum(ip)
		err = gopacket.SerializeLayers(buf, opts, eth, ip, dg, gopacket.Payload(payload))
	}
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func TestDecodeSynthesized(t *testing.T) {
	at := time.Date(2026, 12, 2, 10, 0, 0, 123456000, time.UTC)
	p := capture.Decode(synth(t, true, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n"), layers.LinkTypeEthernet, at, 0)
	want := "10:00:00.123456 IP 192.0.2.1.40000 > 198.51.100.7.80: Flags [P.], seq 1000:1028, ack 2000, win 512, length 28: HTTP: GET /x HTTP/1.1"
	if got := p.Summary(); got != want {
		t.Errorf("summary\n got %q\nwant %q", got, want)
	}
	ls := p.Layers()
	if len(ls) != 4 || ls[1].Name != "IPv4" || ls[1].Offset != 14 || ls[2].Offset != 34 || ls[2].Length != 20 || ls[3].Name != "Payload" {
		t.Errorf("layers %+v", ls)
	}
	var v bytes.Buffer
	p.WriteVerbose(&v)
	if !strings.Contains(v.String(), "checksum: 0x") || !strings.Contains(v.String(), "(correct)") || strings.Contains(v.String(), "WRONG") {
		t.Errorf("verbose:\n%s", v.String())
	}
	// A flipped payload byte makes the TCP checksum wrong, and says so.
	frame := synth(t, true, "hello")
	frame[14+20+20] ^= 0xff // the first payload byte (the frame ends in Ethernet padding)
	if got := capture.Decode(frame, layers.LinkTypeEthernet, at, 0).Summary(); !strings.HasSuffix(got, "[bad tcp cksum]") {
		t.Errorf("a corrupted segment: %s", got)
	}
	// A frame cut short is marked, never a crash.
	if got := capture.Decode(frame[:30], layers.LinkTypeEthernet, at, 100).Summary(); !strings.Contains(got, "undecodable") && !strings.Contains(got, "malformed") {
		t.Errorf("a truncated frame: %s", got)
	}
}

func TestReaderRefusesOtherFiles(t *testing.T) {
	for _, in := range []string{"", "GIF89a", strings.Repeat("x", 100)} {
		if _, err := capture.NewReader(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), "not a capture file") {
			t.Errorf("%q: %v", in, err)
		}
	}
	// A pcap file cut in the middle of a packet is an error, not a short
	// packet.
	var b bytes.Buffer
	w := pcapgo.NewWriter(&b)
	w.WriteFileHeader(65535, layers.LinkTypeEthernet)
	frame := synth(t, false, "hello")
	w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Now(), CaptureLength: len(frame), Length: len(frame)}, frame)
	r, _ := capture.NewReader(bytes.NewReader(b.Bytes()[:b.Len()-3]))
	if _, err := r.Next(); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("a cut packet: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(synth(f, true, "GET / HTTP/1.1\r\n"))
	f.Add(synth(f, false, "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, link := range []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw, layers.LinkTypeLinuxSLL, layers.LinkTypeNull} {
			p := capture.Decode(b, link, time.Unix(0, 0), 0)
			// The line from the reused layers is the full decode's.
			if got, want := p.Line(), capture.SlowLine(capture.Decode(b, link, time.Unix(0, 0), 0)); got != want {
				t.Fatalf("%s:\n fast %s\n full %s", link, got, want)
			}
			_ = p.Summary()
			p.WriteVerbose(io.Discard)
			if _, err := json.Marshal(p.JSON()); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func FuzzReader(f *testing.F) {
	var b bytes.Buffer
	w := pcapgo.NewWriter(&b)
	w.WriteFileHeader(65535, layers.LinkTypeEthernet)
	frame := synth(f, true, "x")
	w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(1, 0), CaptureLength: len(frame), Length: len(frame)}, frame)
	f.Add(b.Bytes())
	f.Add([]byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := capture.NewReader(bytes.NewReader(in))
		if err != nil {
			return
		}
		for range 1000 {
			p, err := r.Next()
			if err != nil {
				return
			}
			_ = p.Summary()
		}
	})
}

func TestFlows(t *testing.T) {
	at := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	seg := func(fromClient bool, flags string, seq, ack uint32, win uint16, data string) []byte {
		a, b := net.IPv4(192, 0, 2, 1), net.IPv4(192, 0, 2, 2)
		ap, bp := layers.TCPPort(40000), layers.TCPPort(80)
		if !fromClient {
			a, b, ap, bp = b, a, bp, ap
		}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: a, DstIP: b}
		tcp := &layers.TCP{SrcPort: ap, DstPort: bp, Seq: seq, Ack: ack, Window: win,
			SYN: strings.Contains(flags, "S"), ACK: strings.Contains(flags, "."), FIN: strings.Contains(flags, "F"), RST: strings.Contains(flags, "R")}
		tcp.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			&layers.Ethernet{EthernetType: layers.EthernetTypeIPv4, SrcMAC: make(net.HardwareAddr, 6), DstMAC: make(net.HardwareAddr, 6)}, ip, tcp, gopacket.Payload(data))
		return buf.Bytes()
	}
	frames := [][]byte{
		seg(true, "S", 100, 0, 100, ""),
		seg(false, "S.", 900, 101, 100, ""),
		seg(true, ".", 101, 901, 100, ""),
		seg(true, ".", 101, 901, 100, "aaaa"),
		seg(true, ".", 109, 901, 100, "cccc"), // out of order: 105-108 missing
		seg(true, ".", 105, 901, 100, "bbbb"), // late, into the gap: out of order
		seg(true, ".", 101, 901, 100, "aaaa"), // a retransmission
		seg(false, ".", 901, 113, 0, ""),      // a zero window
		seg(false, "R.", 901, 113, 0, ""),
	}
	var fs capture.Flows
	for i, f := range frames {
		fs.Add(capture.Decode(f, layers.LinkTypeEthernet, at.Add(time.Duration(i)*10*time.Millisecond), 0))
	}
	fl := fs.List()
	if len(fl) != 1 {
		t.Fatalf("%d flows", len(fl))
	}
	f := fl[0]
	if f.A.String() != "192.0.2.1:40000" || f.PacketsAB != 6 || f.PacketsBA != 3 || f.BytesAB != 16 || f.HandshakeRTT != 10*time.Millisecond ||
		f.OutOfOrder != 1 || f.Retransmitted != 1 || f.ZeroWindows != 1 || f.Resets != 1 {
		t.Errorf("flow %+v", f)
	}
}

func BenchmarkDecodeLine(b *testing.B) {
	frames := [][]byte{synth(b, true, strings.Repeat("x", 700)), synth(b, false, "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01")}
	at := time.Unix(0, 0)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = capture.Decode(frames[i%2], layers.LinkTypeEthernet, at, 0).Summary()
		i++
	}
}

func TestFollow(t *testing.T) {
	seg := func(seq uint32, data string, syn bool) *capture.Packet {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IPv4(192, 0, 2, 1), DstIP: net.IPv4(192, 0, 2, 2)}
		tcp := &layers.TCP{SrcPort: 40000, DstPort: 80, Seq: seq, SYN: syn, ACK: !syn, Window: 100}
		tcp.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			&layers.Ethernet{EthernetType: layers.EthernetTypeIPv4, SrcMAC: make(net.HardwareAddr, 6), DstMAC: make(net.HardwareAddr, 6)}, ip, tcp, gopacket.Payload(data))
		return capture.Decode(append([]byte(nil), buf.Bytes()...), layers.LinkTypeEthernet, time.Unix(0, 0), 0)
	}
	var out strings.Builder
	var problems []string
	f := &capture.Follow{
		Chunk:   func(c capture.Chunk) { out.Write(c.Data) },
		Problem: func(_, _ netip.AddrPort, what string) { problems = append(problems, what) },
	}
	for _, p := range []*capture.Packet{
		seg(999, "", true),
		seg(1000, "hello ", false),
		seg(1012, "again", false),  // early: waits for 1006-1011
		seg(1006, "world ", false), // fills the gap
		seg(1000, "hello ", false), // a retransmission, the same bytes
		seg(1003, "LOX", false),    // a retransmission with different bytes
		seg(1014, "ain!", false),   // overlaps the end: "!" is new
	} {
		f.Add(p)
	}
	f.Flush()
	if out.String() != "hello world again!" {
		t.Errorf("stream %q", out.String())
	}
	if len(problems) != 1 || !strings.Contains(problems[0], "different bytes") {
		t.Errorf("problems %q", problems)
	}
	// A gap that never fills is skipped past MaxPending, and said.
	var out2 strings.Builder
	problems = nil
	g := &capture.Follow{MaxPending: 8, Chunk: func(c capture.Chunk) { out2.Write(c.Data) }, Problem: func(_, _ netip.AddrPort, w string) { problems = append(problems, w) }}
	for _, p := range []*capture.Packet{seg(99, "", true), seg(100, "ab", false), seg(110, "0123", false), seg(114, "45678", false)} {
		g.Add(p)
	}
	if out2.String() != "ab012345678" || len(problems) != 1 || !strings.Contains(problems[0], "8 bytes never came") {
		t.Errorf("stream %q, problems %q", out2.String(), problems)
	}
}

// synthSeq is a TCP segment with seq and n payload bytes.
func synthSeq(t testing.TB, seq uint32, n int) []byte {
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IPv4(192, 0, 2, 1), DstIP: net.IPv4(192, 0, 2, 2)}
	tcp := &layers.TCP{SrcPort: 1, DstPort: 2, Seq: seq, ACK: true, Window: 1}
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		&layers.Ethernet{EthernetType: layers.EthernetTypeIPv4, SrcMAC: make(net.HardwareAddr, 6), DstMAC: make(net.HardwareAddr, 6)}, ip, tcp, gopacket.Payload(make([]byte, n))); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}
