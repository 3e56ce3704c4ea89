package capture_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/netkit-dev/netkit/capture"
	"github.com/netkit-dev/netkit/internal/testutil"
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

// tcpdump writes what crosses a namespace's loopback during a TCP
// exchange; netkit reads it, as pcap and (converted by tshark) as pcapng,
// and agrees with tcpdump's count and tshark's fields.
func TestDecodeTcpdumpAndTshark(t *testing.T) {
	tcpdump := testutil.Program(t, "tcpdump")
	tshark := testutil.Program(t, "tshark")
	ns := testutil.NewNetns(t)
	dir := t.TempDir()
	pcap := filepath.Join(dir, "t.pcap")
	// --immediate-mode: without it, packets wait in the ring for a block
	// timeout, and an interrupt before that loses them.
	cmd := ns.Command(tcpdump, "--immediate-mode", "-i", "lo", "-U", "-w", pcap, "tcp port 7070")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// tcpdump says "listening" once its socket is in place.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if strings.Contains(stderr.String(), "listening on") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("tcpdump did not start")
		}
	}
	time.Sleep(200 * time.Millisecond)
	err := ns.Do(func() error {
		ln, err := net.Listen("tcp4", "127.0.0.1:7070")
		if err != nil {
			return err
		}
		defer ln.Close()
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.Copy(c, c)
			c.Close()
		}()
		c, err := net.Dial("tcp4", "127.0.0.1:7070")
		if err != nil {
			return err
		}
		c.Write([]byte(strings.Repeat("echo me ", 1000)))
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, c)
		return c.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	pcapng := filepath.Join(dir, "t.pcapng")
	if out, err := exec.Command(tshark, "-r", pcap, "-F", "pcapng", "-w", pcapng).CombinedOutput(); err != nil {
		t.Fatalf("tshark: %v %s", err, out)
	}
	fieldsOut, err := exec.Command(tshark, "-r", pcap, "-T", "fields", "-E", "separator=,", "-e", "ip.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "tcp.dstport", "-e", "tcp.len").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(strings.TrimSpace(string(fieldsOut)), "\n")
	countOut, _ := exec.Command(tcpdump, "-nn", "-r", pcap).Output()
	if n := strings.Count(string(countOut), "\n"); n != len(want) || n < 6 {
		t.Fatalf("tcpdump counts %d packets, tshark %d; tcpdump said %s", n, len(want), stderr.String())
	}
	for _, file := range []string{pcap, pcapng} {
		f, _ := os.Open(file)
		r, err := capture.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		var payload int
		for {
			p, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			var j capture.JSON
			b, _ := json.Marshal(p.JSON())
			json.Unmarshal(b, &j)
			fv := map[string]string{}
			for _, l := range j.Layers {
				for _, fl := range l.Fields {
					fv[l.Name+" "+fl.Name] = fl.Value
				}
			}
			n := 0
			for _, l := range j.Layers {
				if l.Name == "Payload" {
					n = l.Length
				}
			}
			payload += n
			got = append(got, fmt.Sprintf("%s,%s,%s,%s,%d", fv["IPv4 src"], fv["TCP src port"], fv["IPv4 dst"], fv["TCP dst port"], n))
		}
		f.Close()
		if r.Format != map[string]string{pcap: "pcap", pcapng: "pcapng"}[file] {
			t.Errorf("%s read as %s", file, r.Format)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: netkit\n%s\ntshark\n%s", r.Format, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if payload != 2*8000 {
			t.Errorf("%s: %d payload bytes, want 16000 (8000 each way)", r.Format, payload)
		}
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
