package capture_test

import (
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

	"github.com/netkit-dev/netkit/capture"
	"github.com/netkit-dev/netkit/internal/testutil"
)

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
	var stderr testutil.SyncBuffer // written by exec's goroutine, read here
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
