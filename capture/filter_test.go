package capture_test

import (
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"

	"github.com/netkit-dev/netkit/capture"
	"github.com/netkit-dev/netkit/internal/testutil"
)

// filterExprs are checked against libpcap's own compiler.
var filterExprs = []string{
	"", "ip", "ip6", "arp", "tcp", "udp", "icmp", "icmp6", "sctp",
	"host 192.0.2.1", "src host 192.0.2.1", "dst 198.51.100.7", "host 2001:db8::1", "src host 2001:db8::1",
	"net 192.0.2.0/24", "dst net 198.51.100.0/25", "net 2001:db8::/32", "src net 2001:db8:1::/48",
	"port 80", "tcp port 80", "udp port 53", "src port 40000", "dst port 443", "tcp dst port 80", "portrange 1000-2000", "udp src portrange 50-60",
	"tcp[tcpflags] & tcp-syn != 0", "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn", "tcp[13] = 18", "icmp[icmptype] == icmp-echo",
	"ip[8] < 10", "udp[4:2] > 100", "tcp[0:2] = 80", "ip[0] & 0xf > 5",
	"not tcp", "! udp", "tcp and port 80", "tcp && not port 22", "udp or icmp", "host 192.0.2.1 and (port 80 or port 443)",
	"host 192.0.2.1 or 198.51.100.7", "port 80 or 443", "tcp or udp and port 53", "not (host 192.0.2.1 or host 198.51.100.7)",
	"ip and not net 192.0.2.0/24", "ip6 and tcp port 80",
	"vlan", "vlan 100", "vlan and tcp port 80", "vlan 200 and host 192.0.2.1", "vlan and tcp", "vlan and vlan 100",
	"not vlan", "vlan or udp", "vlan 100 and ip6 and udp port 53",
}

// corpus is generated packets: TCP, UDP, SCTP, ICMP over IPv4 and IPv6,
// fragments, ARP, random addresses, ports and flags, and raw noise.
func corpus(t testing.TB) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	addrs4 := []net.IP{net.IPv4(192, 0, 2, 1), net.IPv4(198, 51, 100, 7), net.IPv4(192, 0, 2, 200), net.IPv4(203, 0, 113, 9), net.IPv4(198, 51, 100, 130)}
	addrs6 := []net.IP{net.ParseIP("2001:db8::1"), net.ParseIP("2001:db8:1::5"), net.ParseIP("2001:db9::1")}
	portsList := []uint16{80, 443, 53, 22, 40000, 1000, 1500, 2000, 2001, 55, 60, 61}
	var out [][]byte
	ser := func(ls ...gopacket.SerializableLayer) {
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err == nil {
			out = append(out, append([]byte(nil), buf.Bytes()...))
		}
	}
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	for i := 0; i < 1500; i++ {
		src, dst := addrs4[r.IntN(len(addrs4))], addrs4[r.IntN(len(addrs4))]
		sp, dp := portsList[r.IntN(len(portsList))], portsList[r.IntN(len(portsList))]
		six := r.IntN(3) == 0
		var ip gopacket.NetworkLayer
		ip4 := &layers.IPv4{Version: 4, TTL: uint8(r.IntN(20)), SrcIP: src, DstIP: dst, IHL: 5}
		ip6 := &layers.IPv6{Version: 6, HopLimit: 64, SrcIP: addrs6[r.IntN(len(addrs6))], DstIP: addrs6[r.IntN(len(addrs6))]}
		if r.IntN(10) == 0 {
			ip4.FragOffset = 100
		}
		if r.IntN(8) == 0 {
			ip4.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}
		}
		et := layers.EthernetTypeIPv4
		if six {
			ip, et = ip6, layers.EthernetTypeIPv6
		} else {
			ip = ip4
		}
		var eth gopacket.SerializableLayer = &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: et}
		var tags []gopacket.SerializableLayer
		switch r.IntN(6) {
		case 0: // one 802.1Q tag, VLAN 100 or 200
			eth = &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeDot1Q}
			tags = []gopacket.SerializableLayer{&layers.Dot1Q{VLANIdentifier: uint16(100 * (1 + r.IntN(2))), Type: et}}
		case 1: // 802.1ad outside 802.1Q (QinQ)
			eth = &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeQinQ}
			tags = []gopacket.SerializableLayer{&layers.Dot1Q{VLANIdentifier: 300, Type: layers.EthernetTypeDot1Q},
				&layers.Dot1Q{VLANIdentifier: 100, Type: et}}
		}
		ser := func(ls ...gopacket.SerializableLayer) {
			ser(append(append([]gopacket.SerializableLayer{ls[0]}, tags...), ls[1:]...)...)
		}
		payload := gopacket.Payload(make([]byte, r.IntN(200)))
		setProto := func(p layers.IPProtocol) {
			ip4.Protocol, ip6.NextHeader = p, p
		}
		switch r.IntN(5) {
		case 0, 1:
			setProto(layers.IPProtocolTCP)
			tcp := &layers.TCP{SrcPort: layers.TCPPort(sp), DstPort: layers.TCPPort(dp), SYN: r.IntN(2) == 0, ACK: r.IntN(2) == 0, FIN: r.IntN(5) == 0, Window: 100}
			tcp.SetNetworkLayerForChecksum(ip)
			ser(eth, ip.(gopacket.SerializableLayer), tcp, payload)
		case 2:
			setProto(layers.IPProtocolUDP)
			udp := &layers.UDP{SrcPort: layers.UDPPort(sp), DstPort: layers.UDPPort(dp)}
			udp.SetNetworkLayerForChecksum(ip)
			ser(eth, ip.(gopacket.SerializableLayer), udp, payload)
		case 3:
			if six {
				setProto(layers.IPProtocolICMPv6)
				ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(128, 0)}
				ic.SetNetworkLayerForChecksum(ip)
				ser(eth, ip6, ic, payload)
			} else {
				setProto(layers.IPProtocolICMPv4)
				ser(eth, ip4, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(uint8([]int{0, 3, 8, 11}[r.IntN(4)]), 0)}, payload)
			}
		case 4:
			setProto(layers.IPProtocolSCTP)
			ser(eth, ip.(gopacket.SerializableLayer), &layers.SCTP{SrcPort: layers.SCTPPort(sp), DstPort: layers.SCTPPort(dp)}, payload)
		}
	}
	for i := 0; i < 100; i++ {
		ser(&layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: layers.EthernetTypeARP},
			&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4, Operation: 1,
				SourceHwAddress: mac, SourceProtAddress: addrs4[r.IntN(len(addrs4))].To4(), DstHwAddress: mac, DstProtAddress: addrs4[r.IntN(len(addrs4))].To4()})
	}
	// Wireshark's randpkt: well-formed headers over random contents.
	if rp, err := exec.LookPath("randpkt"); err == nil {
		dir := t.TempDir()
		for _, typ := range []string{"eth", "arp", "dns", "icmp", "ip", "ipv6", "udp"} {
			file := filepath.Join(dir, typ+".pcap")
			if err := exec.Command(rp, "-b", "400", "-c", "150", "-t", typ, file).Run(); err != nil {
				t.Fatalf("randpkt -t %s: %v", typ, err)
			}
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			r, err := capture.NewReader(f)
			for err == nil {
				var p *capture.Packet
				if p, err = r.Next(); err == nil && p.Link == layers.LinkTypeEthernet {
					out = append(out, p.Data())
				}
			}
			f.Close()
		}
	} else if testutil.RequireInterop() {
		t.Fatal("randpkt (wireshark-common) is missing and NETKIT_REQUIRE_INTEROP=1")
	}
	for i := 0; i < 200; i++ { // noise, and frames cut short
		b := make([]byte, r.IntN(80))
		for j := range b {
			b[j] = byte(r.IntN(256))
		}
		out = append(out, b)
		if len(out) > 10 {
			f := out[r.IntN(len(out)-1)]
			out = append(out, f[:r.IntN(len(f)+1)])
		}
	}
	return out
}

// libpcap compiles each expression (tcpdump -ddd); both programs run in
// x/net/bpf's VM over the corpus and must say the same of every packet.
func TestFilterMatchesLibpcap(t *testing.T) {
	tcpdump := testutil.Program(t, "tcpdump")
	ether := corpus(t)
	for _, link := range []struct {
		dlt string
		lt  layers.LinkType
	}{{"EN10MB", layers.LinkTypeEthernet}, {"LINUX_SLL", layers.LinkTypeLinuxSLL}} {
		packets := ether
		if link.lt == layers.LinkTypeLinuxSLL {
			packets = make([][]byte, len(ether))
			for i, p := range ether {
				packets[i] = toSLL(p)
			}
		}
		for _, expr := range filterExprs {
			t.Run(link.dlt+"/"+expr, func(t *testing.T) {
				if strings.Contains(expr, "vlan") && link.lt == layers.LinkTypeLinuxSLL {
					// Cooked frames carry no tags: libpcap refuses vlan
					// there ("no VLAN support for Linux cooked v1"), and
					// so does netkit.
					f, _ := capture.CompileFilter(expr)
					if _, err := f.ForLink(link.lt); err == nil {
						t.Errorf("%q relocated for LINUX_SLL", expr)
					}
					return
				}
				args := []string{"-ddd", "-y", link.dlt}
				if expr != "" {
					args = append(args, expr)
				}
				out, err := exec.Command(tcpdump, args...).Output()
				if err != nil {
					t.Fatalf("tcpdump -ddd %q: %v", expr, err)
				}
				lines := strings.Split(strings.TrimSpace(string(out)), "\n")
				var raw []bpf.RawInstruction
				for _, l := range lines[1:] {
					f := strings.Fields(l)
					v := make([]uint64, 4)
					for i := range f {
						v[i], _ = strconv.ParseUint(f[i], 10, 32)
					}
					raw = append(raw, bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])})
				}
				ref, ok := bpf.Disassemble(raw)
				if !ok {
					t.Fatalf("cannot disassemble libpcap's program")
				}
				refVM, err := bpf.NewVM(ref)
				if err != nil {
					t.Fatal(err)
				}
				f, err := capture.CompileFilter(expr)
				if err != nil {
					t.Fatal(err)
				}
				if f, err = f.ForLink(link.lt); err != nil {
					t.Fatal(err)
				}
				matched, differ := 0, 0
				for i, p := range packets {
					// Frames cut shorter than the headers they announce: a
					// program stops at its first load past the end, and which
					// load comes first is libpcap's optimizer's choice, not
					// the language's (host a or b decides on a 33-byte IPv4
					// frame in one order and not in another). Such frames are
					// fuzzed for safety, not compared.
					if truncated(ether[i]) {
						continue
					}
					n, _ := refVM.Run(p)
					want := n > 0
					if want {
						matched++
					}
					if got := f.Match(p); got != want {
						differ++
						if differ <= 3 {
							t.Errorf("libpcap says %v, netkit %v:\n%s", want, got, capture.Decode(p, link.lt, time.Unix(0, 0), 0).Line())
						}
					}
				}
				if differ > 0 {
					t.Errorf("%d of %d packets differ", differ, len(packets))
				}
				if expr != "" && (matched == 0 || matched == len(packets)) {
					t.Errorf("the corpus does not exercise %q: %d of %d match", expr, matched, len(packets))
				}
			})
		}
	}
}

// toSLL reframes an Ethernet frame as Linux cooked capture (LINUX_SLL):
// packet type, ARPHRD_ETHER, the source address, then the protocol;
// frames too short for an Ethernet header are kept as noise.
func toSLL(p []byte) []byte {
	if len(p) < 14 {
		return p
	}
	h := []byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, p[12], p[13]}
	return append(h, p[14:]...)
}

func TestFilterErrors(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{"host", "an IPv4 or IPv6 address"}, {"tcp and", "ends where"}, {"port http", "names are not looked up"}, {"net 192.0.2.1/24", "host bits set"},
		{"(tcp", "not closed"}, {"vlan 5000", "an ID is 0-4095"}, {"tcp vlan", "no qualifiers"}, {"ether host 1", "not supported yet"}, {"tcp[13] ~ 2", "a comparison"}, {"tcp port 80 banana", "unexpected"},
		{"icmp port 7", "has no ports"}, {"host example.com", "names are not looked up"},
	} {
		if _, err := capture.CompileFilter(tc.expr); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.expr, err, tc.want)
		}
	}
}

func FuzzCompileFilter(f *testing.F) {
	for _, e := range filterExprs {
		f.Add(e)
	}
	frame := synth(f, true, "x")
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := capture.CompileFilter(expr)
		if err != nil {
			return
		}
		if _, err := flt.Raw(); err != nil {
			t.Fatalf("%q compiled to a program that does not assemble: %v", expr, err)
		}
		flt.Match(frame)
	})
}

// truncated says whether a frame is shorter than its IP header says.
func truncated(p []byte) bool {
	pk := gopacket.NewPacket(p, layers.LinkTypeEthernet, gopacket.DecodeOptions{})
	if pk.ErrorLayer() != nil {
		return true
	}
	nl := pk.NetworkLayer()
	if nl == nil {
		return len(p) < 14
	}
	off := len(p) - len(nl.LayerContents()) - len(nl.LayerPayload()) // past the Ethernet header and any tags
	switch ip := nl.(type) {
	case *layers.IPv4:
		return len(p) < off+int(ip.Length)
	case *layers.IPv6:
		return len(p) < off+40+int(ip.Length)
	}
	return false
}
