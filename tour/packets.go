package tour

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	gplayers "github.com/gopacket/gopacket/layers"

	"github.com/netkit-dev/netkit/capture"
)

// packets: what crosses the wire is packets inside frames; a TCP
// exchange is a handshake, data with sequence numbers and acknowledgements,
// and a closing handshake.
type packets struct{}

func (packets) Name() string  { return "packets" }
func (packets) Layer() string { return "link" }
func (packets) Idea() string {
	return "every message crosses the wire as a packet inside a frame: a TCP segment inside an IP packet inside an Ethernet frame, each with its header; TCP opens with SYN, SYN-ACK, ACK and numbers every byte"
}
func (packets) Commands() []string {
	return []string{
		"netkit serve echo 127.0.0.1:12345 &",
		"netkit capture -i lo -c 8 -w handshake.pcap & # needs root",
		"echo hello | netkit connect 127.0.0.1:12345",
		"netkit decode handshake.pcap",
		"netkit decode -V -c 1 handshake.pcap",
	}
}

func (packets) Files() map[string]string { return nil }

// handshake builds the frames of a client saying "hello" to a server.
func handshake() [][]byte {
	cli, srv := net.IPv4(127, 0, 0, 1), net.IPv4(127, 0, 0, 1)
	type seg struct {
		fromClient         bool
		syn, ack, psh, fin bool
		seq, ackn          uint32
		data               string
	}
	segs := []seg{
		{true, true, false, false, false, 1000, 0, ""},
		{false, true, true, false, false, 5000, 1001, ""},
		{true, false, true, false, false, 1001, 5001, ""},
		{true, false, true, true, false, 1001, 5001, "hello\n"},
		{false, false, true, true, false, 5001, 1007, "hello\n"},
		{true, false, true, false, true, 1007, 5007, ""},
		{false, false, true, false, true, 5007, 1008, ""},
		{true, false, true, false, false, 1008, 5008, ""},
	}
	var out [][]byte
	for _, s := range segs {
		ip := &gplayers.IPv4{Version: 4, TTL: 64, Protocol: gplayers.IPProtocolTCP, SrcIP: srv, DstIP: cli}
		tcp := &gplayers.TCP{SrcPort: 12345, DstPort: 40000, Seq: s.seq, Ack: s.ackn, SYN: s.syn, ACK: s.ack, PSH: s.psh, FIN: s.fin, Window: 64}
		if s.fromClient {
			ip.SrcIP, ip.DstIP, tcp.SrcPort, tcp.DstPort = cli, srv, 40000, 12345
		}
		tcp.SetNetworkLayerForChecksum(ip)
		eth := &gplayers.Ethernet{EthernetType: gplayers.EthernetTypeIPv4, SrcMAC: make(net.HardwareAddr, 6), DstMAC: make(net.HardwareAddr, 6)}
		buf := gopacket.NewSerializeBuffer()
		gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(s.data))
		out = append(out, append([]byte(nil), buf.Bytes()...))
	}
	return out
}

func (packets) Run(ctx context.Context, w io.Writer, e *Env) error {
	ps, live, err := liveExchange(ctx)
	switch {
	case errors.Is(err, capture.ErrPrivilege):
		say(w, "A live capture needs root or CAP_NET_RAW, which the tour does not have: here is the same exchange, built packet by packet as the kernel would send it.")
	case err != nil:
		return err
	}
	if !live {
		at := time.Now()
		for i, f := range handshake() {
			ps = append(ps, capture.Decode(f, gplayers.LinkTypeEthernet, at.Add(time.Duration(i)*time.Millisecond), 0))
		}
	} else {
		say(w, "netkit captured its own TCP exchange on loopback (an AF_PACKET socket): a client sends \"hello\\n\" to an echo server and closes.")
	}
	for _, p := range ps {
		fmt.Fprintf(w, "  %s\n", p.Line())
	}
	say(w, "[S] is the SYN, [S.] the SYN-ACK, [.] an ACK; [P.] carries data, [F.] closes one direction. Each side numbers its bytes from a random start: \"seq a:b\" are the bytes this segment carries, \"ack n\" the next byte expected.")
	if live {
		say(w, "(Checksums of loopback packets are never filled in: the kernel knows nothing corrupts them on the way. tcpdump -vv calls them incorrect too.)")
	}
	for _, p := range ps {
		if strings.Contains(p.Line(), "length 6") {
			say(w, "The first data segment as its layer cake: each header inside the one before it, at its offset in the frame:")
			for i, l := range p.Layers() {
				var fs []string
				for _, f := range l.Fields {
					switch f.Name {
					case "src", "dst", "protocol", "ttl", "src port", "dst port", "seq", "ack", "flags", "window", "type", "bytes":
						fs = append(fs, f.Name+" "+f.Value)
					}
				}
				fmt.Fprintf(w, "  %s%s, bytes %d-%d: %s\n", strings.Repeat("  ", i), l.Name, l.Offset, l.Offset+l.Length, strings.Join(fs, ", "))
			}
			break
		}
	}
	return nil
}

// liveExchange captures an echo exchange on the host's loopback, its own
// port only. live is false when capturing is not allowed.
func liveExchange(ctx context.Context) (ps []*capture.Packet, live bool, err error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, false, err
	}
	defer ln.Close()
	port := fmt.Sprintf(".%d", ln.Addr().(*net.TCPAddr).Port)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.Copy(c, c)
		c.Close()
	}()
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ready := make(chan struct{})
	l := &capture.Live{Interface: "lo", Ready: func() { close(ready) }}
	done := make(chan error, 1)
	go func() {
		_, err := l.Run(cctx, func(data []byte, length int, at time.Time) error {
			p := capture.Decode(bytes.Clone(data), gplayers.LinkTypeEthernet, at, length) // data is the ring's: kept, so copied
			if line := p.Line(); strings.Contains(line, port+" ") || strings.Contains(line, port+":") {
				ps = append(ps, p)
				if strings.Count(line, "Flags [.]") > 0 && len(ps) >= 8 {
					cancel() // the last ACK of the closing handshake
				}
			}
			return nil
		})
		done <- err
	}()
	select {
	case <-ready:
	case err := <-done:
		return nil, false, err
	}
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		cancel()
		<-done
		return nil, false, err
	}
	c.Write([]byte("hello\n"))
	c.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, c)
	c.Close()
	err = <-done
	if len(ps) < 6 {
		return nil, false, fmt.Errorf("the capture saw %d packets of the exchange", len(ps))
	}
	return ps, true, err
}
