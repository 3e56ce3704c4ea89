package capture_test

import (
	"bytes"
	"context"
	"errors"
	"io"
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
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/netkit-dev/netkit/capture"
	"github.com/netkit-dev/netkit/internal/testutil"
)

// A live capture on a namespace's loopback, and on "any", sees a TCP
// exchange once (no packet twice), handshake first, and every byte.
func TestLiveCapture(t *testing.T) {
	for _, tc := range []struct{ iface, filter string }{{"lo", ""}, {"any", ""}, {"lo", "tcp[tcpflags] & tcp-syn != 0"}, {"any", "tcp[tcpflags] & tcp-syn != 0 and port 7171"}} {
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
				return c.Close()
			})
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(500 * time.Millisecond)
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
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

// A vlan filter cannot run on a live capture (the kernel strips the tags
// first): it is refused, saying what to do instead.
func TestLiveRefusesVLAN(t *testing.T) {
	f, err := capture.CompileFilter("vlan 100 and tcp")
	if err != nil {
		t.Fatal(err)
	}
	l := &capture.Live{Interface: "lo", Filter: f}
	if _, err := l.Run(context.Background(), func([]byte, int, time.Time) error { return nil }); !errors.Is(err, capture.ErrLiveVLAN) {
		t.Errorf("Run with a vlan filter: %v, want ErrLiveVLAN", err)
	}
	if _, err := f.ForCookedSocket(); !errors.Is(err, capture.ErrLiveVLAN) {
		t.Errorf("ForCookedSocket with vlan: %v", err)
	}
}
