package capture_test

import (
	"bytes"
	"fmt"
	"net"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/netkit-dev/netkit/capture"
)

// A capture file read back: one line a packet, then the layer cake of
// the first.
func Example() {
	// A pcap file with one UDP datagram in it, made here.
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IPv4(192, 0, 2, 1), DstIP: net.IPv4(192, 0, 2, 2)}
	udp := &layers.UDP{SrcPort: 40000, DstPort: 9}
	udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, gopacket.Payload("Thank you for connecting"))
	var file bytes.Buffer
	w := pcapgo.NewWriter(&file)
	w.WriteFileHeader(65535, layers.LinkTypeEthernet)
	at := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	w.WritePacket(gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}, buf.Bytes())

	r, err := capture.NewReader(&file)
	if err != nil {
		fmt.Println(err)
		return
	}
	p, _ := r.Next()
	fmt.Println(p.Line())
	for _, l := range p.Layers() {
		fmt.Printf("%-8s bytes %2d-%2d\n", l.Name, l.Offset, l.Offset+l.Length)
	}
	// Output:
	// IP 192.0.2.1.40000 > 192.0.2.2.9: UDP, length 24
	// Ethernet bytes  0-14
	// IPv4     bytes 14-34
	// UDP      bytes 34-42
	// Payload  bytes 42-66
}
