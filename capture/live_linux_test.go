package capture_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/sys/unix"

	"github.com/netkit-dev/netkit/capture"
	"github.com/netkit-dev/netkit/internal/testutil"
)

// A live capture on a namespace's loopback, and on "any", sees a TCP
// exchange once (no packet twice), handshake first, and every byte.
func TestLiveCapture(t *testing.T) {
	for _, tc := range []struct{ iface, filter string }{{"lo", ""}, {"any", ""}, {"lo", "tcp[tcpflags] & tcp-syn != 0"}, {"any", "tcp[tcpflags] & tcp-syn != 0 and port 7171"}, {"lo", "not port 7171"}} {
		t.Run(tc.iface+" "+tc.filter, func(t *testing.T) {
			ns := testutil.NewNetns(t)
			started := make(chan struct{})
			l := &capture.Live{Interface: tc.iface, Ready: func() { close(started) }}
			if tc.filter != "" {
				flt, err := capture.CompileFilter(tc.filter)
				if err != nil {
					t.Fatal(err)
				}
				l.Filter = flt
			}
			ctx, cancel := context.WithCancel(context.Background())
			type pkt struct {
				line    string
				payload int
			}
			var got []pkt
			other := 0
			var file bytes.Buffer
			pw := pcapgo.NewWriter(&file)
			pw.WriteFileHeader(262144, map[bool]layers.LinkType{true: layers.LinkTypeLinuxSLL, false: layers.LinkTypeEthernet}[tc.iface == "any"])
			done := make(chan error, 1)
			go func() {
				done <- ns.Do(func() error {
					link, err := l.LinkType()
					if err != nil {
						return err
					}
					_, err = l.Run(ctx, func(data []byte, length int, at time.Time) error {
						p := capture.Decode(data, link, at, length)
						n := 0
						for _, ly := range p.Layers() {
							if ly.Name == "Payload" {
								n = ly.Length
							}
						}
						if strings.Contains(p.Line(), ".7272: UDP") {
							other++
						}
						if strings.Contains(p.Line(), ".7171") {
							got = append(got, pkt{p.Line(), n})
							pw.WritePacket(gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(data), Length: length}, data)
						}
						return nil
					})
					return err
				})
			}()
			<-started
			err := ns.Do(func() error {
				ln, err := net.Listen("tcp4", "127.0.0.1:7171")
				if err != nil {
					return err
				}
				defer ln.Close()
				go func() {
					c, err := ln.Accept()
					if err == nil {
						io.Copy(c, c)
						c.Close()
					}
				}()
				c, err := net.Dial("tcp4", "127.0.0.1:7171")
				if err != nil {
					return err
				}
				c.Write([]byte(strings.Repeat("x", 5000)))
				c.(*net.TCPConn).CloseWrite()
				io.Copy(io.Discard, c)
				if err := c.Close(); err != nil {
					return err
				}
				// A datagram to another port, which "not port 7171" keeps.
				u, err := net.Dial("udp4", "127.0.0.1:7272")
				if err != nil {
					return err
				}
				u.Write([]byte("other"))
				return u.Close()
			})
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(500 * time.Millisecond)
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(tc.filter, "not port") {
				// A filter that excludes the port: none of its packets.
				if len(got) != 0 || other != 1 {
					t.Errorf("with %q: %d packets of the port (want none), %d of the other (want 1): %v", tc.filter, len(got), other, got)
				}
				return
			}
			if tc.filter != "" {
				// The kernel ran the filter: the SYN and the SYN-ACK alone.
				if len(got) != 2 || !strings.Contains(got[0].line, "Flags [S]") || !strings.Contains(got[1].line, "Flags [S.]") {
					t.Errorf("with %q: %v", tc.filter, got)
				}
				return
			}
			if len(got) < 6 {
				t.Fatalf("%d packets: %v", len(got), got)
			}
			syn, payload := 0, 0
			for _, p := range got {
				if strings.Contains(p.line, "Flags [S]") {
					syn++
				}
				payload += p.payload
			}
			if syn != 1 || !strings.Contains(got[0].line, "Flags [S]") || !strings.Contains(got[1].line, "Flags [S.]") || payload != 10000 {
				t.Errorf("%d SYNs, %d payload bytes (want 1 and 10000):\n%v", syn, payload, got)
			}
			// tshark reads the capture as netkit wrote it: as many packets,
			// as many payload bytes.
			tshark := testutil.Program(t, "tshark")
			path := filepath.Join(t.TempDir(), "live.pcap")
			os.WriteFile(path, file.Bytes(), 0o600)
			out, err := exec.Command(tshark, "-r", path, "-T", "fields", "-e", "tcp.len").Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			lens := strings.Fields(string(out))
			sum := 0
			for _, l := range lens {
				n, _ := strconv.Atoi(l)
				sum += n
			}
			if len(lens) != len(got) || sum != 10000 {
				t.Errorf("tshark reads %d packets and %d bytes, netkit wrote %d and 10000", len(lens), sum, len(got))
			}
		})
	}
}

// A live capture on a trunk: frames tagged for VLANs 100 and 200 come in
// on a veth; the kernel takes each tag off and keeps it beside the
// packet; "vlan 100 and udp port 9" reads it there, and the frame
// written has its tag back, as libpcap has it. (This kernel has no
// VLAN devices: the frames are written raw by a packet socket.)
func TestLiveVLAN(t *testing.T) {
	a, b := testutil.NewNetns(t), testutil.NewNetns(t)
	aIf, bIf := testutil.Veth(t, a, netip.MustParsePrefix("192.0.2.1/30"), b, netip.MustParsePrefix("192.0.2.2/30"))
	f, err := capture.CompileFilter("vlan 100 and udp port 9")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	l := &capture.Live{Interface: bIf, Filter: f, Ready: func() { close(started) }}
	ctx, cancel := context.WithCancel(context.Background())
	var frames [][]byte
	done := make(chan error, 1)
	go func() {
		done <- b.Do(func() error {
			_, err := l.Run(ctx, func(data []byte, length int, at time.Time) error {
				frames = append(frames, bytes.Clone(data))
				return nil
			})
			return err
		})
	}()
	<-started
	tagged := func(id uint16, port layers.UDPPort) []byte {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IPv4(198, 51, 100, 1), DstIP: net.IPv4(198, 51, 100, 2)}
		udp := &layers.UDP{SrcPort: 40000, DstPort: port}
		udp.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			&layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, EthernetType: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: id, Type: layers.EthernetTypeIPv4}, ip, udp, gopacket.Payload("tagged"))
		return buf.Bytes()
	}
	err = a.Do(func() error {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		ifi, err := net.InterfaceByName(aIf)
		if err != nil {
			return err
		}
		to := &unix.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6}
		for _, fr := range [][]byte{tagged(100, 9), tagged(200, 9), tagged(100, 10)} {
			if err := unix.Sendto(fd, fr, 0, to); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(frames) != 1 {
		t.Fatalf("captured %d frames, want the one to VLAN 100's port 9", len(frames))
	}
	fr := frames[0]
	if binary.BigEndian.Uint16(fr[12:]) != 0x8100 || binary.BigEndian.Uint16(fr[14:])&0x0fff != 100 {
		t.Errorf("the frame's tag is not back: % x", fr[:18])
	}
	if line := capture.Decode(fr, layers.LinkTypeEthernet, time.Unix(0, 0), 0).Line(); !strings.Contains(line, "198.51.100.1.40000 > 198.51.100.2.9: UDP, length 6") {
		t.Errorf("decoded: %s", line)
	}
}
