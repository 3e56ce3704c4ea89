// Command capgen writes a pcap of N packets for bench/decode.sh: a mix of
// TCP data over many flows, DNS queries and answers over UDP, and ICMP
// echoes, with correct checksums, deterministic from a seed.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

func main() {
	n := flag.Int("n", 1000000, "packets")
	out := flag.String("o", "bench.pcap", "output file")
	flag.Parse()
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w := pcapgo.NewWriter(bw)
	w.WriteFileHeader(65535, layers.LinkTypeEthernet)
	r := rand.New(rand.NewPCG(7, 7))
	at := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	data := make([]byte, 1400)
	buf := gopacket.NewSerializeBuffer()
	for i := 0; i < *n; i++ {
		flow := r.IntN(5000)
		src := net.IPv4(192, 0, 2, byte(flow%250+1))
		dst := net.IPv4(198, 51, 100, byte(flow/250+1))
		eth := &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, SrcIP: src, DstIP: dst}
		var err error
		switch k := r.IntN(10); {
		case k < 7:
			ip.Protocol = layers.IPProtocolTCP
			tcp := &layers.TCP{SrcPort: layers.TCPPort(30000 + flow), DstPort: 443, Seq: uint32(i) * 1400, Ack: 1, ACK: true, PSH: true, Window: 512}
			tcp.SetNetworkLayerForChecksum(ip)
			err = gopacket.SerializeLayers(buf, opts, eth, ip, tcp, gopacket.Payload(data[:r.IntN(1400)]))
		case k < 9:
			ip.Protocol = layers.IPProtocolUDP
			udp := &layers.UDP{SrcPort: layers.UDPPort(30000 + flow), DstPort: 53}
			udp.SetNetworkLayerForChecksum(ip)
			dns := &layers.DNS{ID: uint16(i), RD: true, Questions: []layers.DNSQuestion{{Name: []byte(fmt.Sprintf("host%d.example.org", flow)), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}}
			if k == 8 {
				dns.QR = true
				dns.Answers = []layers.DNSResourceRecord{{Name: dns.Questions[0].Name, Type: layers.DNSTypeA, Class: layers.DNSClassIN, TTL: 300, IP: net.IPv4(203, 0, 113, byte(flow%250))}}
			}
			err = gopacket.SerializeLayers(buf, opts, eth, ip, udp, dns)
		default:
			ip.Protocol = layers.IPProtocolICMPv4
			err = gopacket.SerializeLayers(buf, opts, eth, ip, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: uint16(flow), Seq: uint16(i)}, gopacket.Payload(data[:56]))
		}
		if err != nil {
			log.Fatal(err)
		}
		b := buf.Bytes()
		w.WritePacket(gopacket.CaptureInfo{Timestamp: at.Add(time.Duration(i) * time.Microsecond), CaptureLength: len(b), Length: len(b)}, b)
	}
	if err := bw.Flush(); err != nil {
		log.Fatal(err)
	}
	f.Close()
}
