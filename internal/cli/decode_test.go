package cli

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

func TestDecodeCommand(t *testing.T) {
	var file bytes.Buffer
	w := pcapgo.NewWriter(&file)
	w.WriteFileHeader(65535, layers.LinkTypeEthernet)
	for i, payload := range []string{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n"} {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IPv4(192, 0, 2, 1), DstIP: net.IPv4(192, 0, 2, 2)}
		tcp := &layers.TCP{SrcPort: 40000, DstPort: 80, Seq: uint32(100 * (i + 1)), ACK: true, PSH: true, Window: 64}
		if i == 1 {
			ip.SrcIP, ip.DstIP, tcp.SrcPort, tcp.DstPort = ip.DstIP, ip.SrcIP, 80, 40000
		}
		tcp.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(payload))
		w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Date(2026, 12, 2, 12, 0, i, 0, time.UTC), CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}, buf.Bytes())
	}
	path := filepath.Join(t.TempDir(), "t.pcap")
	os.WriteFile(path, file.Bytes(), 0o600)

	out, _, code := run(t, "decode", path)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || !strings.Contains(lines[0], "IP 192.0.2.1.40000 > 192.0.2.2.80: Flags [P.], seq 100:127, ack 0, win 64, length 27: HTTP: GET / HTTP/1.1") ||
		!strings.Contains(lines[1], "HTTP: HTTP/1.1 200 OK") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	out, _, _ = run(t, "decode", "-V", "-c", "1", path)
	if !strings.Contains(out, "  IPv4: bytes 14-34 (20)") || !strings.Contains(out, "checksum: 0x") || strings.Count(out, "Ethernet: bytes") != 1 {
		t.Errorf("-V:\n%s", out)
	}
	out, _, _ = run(t, "decode", "--json", path)
	if strings.Count(out, "\n") != 2 || !strings.Contains(out, `"name":"TCP"`) {
		t.Errorf("--json:\n%s", out)
	}
	out, _, _ = run(t, "decode", "--stats", path)
	if !strings.Contains(out, "tcp    192.0.2.1:40000  192.0.2.2:80") || strings.Count(out, "\n") != 2 {
		t.Errorf("--stats:\n%s", out)
	}
	out, _, _ = run(t, "decode", "--follow", path)
	if !strings.Contains(out, "== 192.0.2.1:40000 > 192.0.2.2:80 (from byte 0)\nGET / HTTP/1.1\nHost: x\n") || !strings.Contains(out, "== 192.0.2.2:80 > 192.0.2.1:40000") {
		t.Errorf("--follow:\n%s", out)
	}
	if _, errOut, code := run(t, "decode", "--follow", "--stats", path); code != 2 || !strings.Contains(errOut, "exclude") {
		t.Errorf("--follow --stats: exit %d %q", code, errOut)
	}
	out, _, _ = run(t, "decode", path, "dst", "port", "80")
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "GET /") {
		t.Errorf("a filter:\n%s", out)
	}
	notPcap := filepath.Join(t.TempDir(), "x.txt")
	os.WriteFile(notPcap, []byte("hello, world"), 0o600)
	if _, errOut, code := run(t, "decode", notPcap); code != 2 || !strings.Contains(errOut, "not a capture file") {
		t.Errorf("a text file: exit %d %q", code, errOut)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	os.WriteFile(cut, file.Bytes()[:file.Len()-5], 0o600)
	if out, errOut, code := run(t, "decode", cut); code != 1 || !strings.Contains(errOut, "packet 2") || strings.Count(out, "\n") != 1 {
		t.Errorf("a cut file: exit %d %q %q", code, out, errOut)
	}
}
