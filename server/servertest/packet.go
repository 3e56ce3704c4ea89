package servertest

import (
	"bytes"
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/inetd"
	"github.com/netkit-dev/netkit/server"
)

// StartPacket serves h with a server.PacketServer on a loopback UDP port
// and returns the server and its address.
func StartPacket(t testing.TB, h server.PacketHandler) (*server.PacketServer, *net.UDPAddr) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server.PacketServer{Handler: h}
	served := make(chan error, 1)
	go func() { served <- s.Serve(context.Background(), pc) }()
	t.Cleanup(func() {
		s.Shutdown(context.Background())
		if err := <-served; err != nil {
			t.Errorf("Serve returned %v after Shutdown", err)
		}
	})
	return s, pc.LocalAddr().(*net.UDPAddr)
}

// RunPacket checks the UDP forms of the inetd services on a PacketServer:
// each datagram is answered by one datagram, boundaries kept.
func RunPacket(t *testing.T) {
	t.Run("echo", func(t *testing.T) {
		leakCheck(t)
		s, addr := StartPacket(t, inetd.Echo{})
		c := dialUDP(t, addr)
		sizes := []int{1, 0, 1400, 9000, 65507}
		for _, n := range sizes {
			c.Write(randomFill(n, byte(n)))
		}
		for _, n := range sizes {
			got := readDatagram(t, c)
			if !bytes.Equal(got, randomFill(n, byte(n))) {
				t.Fatalf("echoed a %d-byte datagram as %d bytes", n, len(got))
			}
		}
		// The server counts a reply after its write returns, which may be
		// after the client has read it.
		waitFor(t, "the reply counters", func() bool { return s.Stats().PacketsOut == uint64(len(sizes)) })
		if st := s.Stats(); st.PacketsIn != uint64(len(sizes)) || st.PacketsOut != st.PacketsIn || st.BytesIn != st.BytesOut {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("discard", func(t *testing.T) {
		leakCheck(t)
		s, addr := StartPacket(t, inetd.Discard{})
		c := dialUDP(t, addr)
		c.Write([]byte("into the void"))
		waitFor(t, "the datagram to arrive", func() bool { return s.Stats().PacketsIn == 1 })
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if n, err := c.Read(make([]byte, 10)); err == nil {
			t.Errorf("discard answered %d bytes", n)
		}
	})
	t.Run("daytime", func(t *testing.T) {
		leakCheck(t)
		_, addr := StartPacket(t, &inetd.Daytime{})
		c := dialUDP(t, addr)
		c.Write(nil)
		got := string(readDatagram(t, c))
		if _, err := time.Parse(inetd.DaytimeFormat, strings.TrimSuffix(got, "\r\n")); err != nil {
			t.Errorf("daytime %q: %v", got, err)
		}
	})
	t.Run("time", func(t *testing.T) {
		leakCheck(t)
		_, addr := StartPacket(t, &inetd.Time{})
		c := dialUDP(t, addr)
		c.Write(nil)
		if got := readDatagram(t, c); len(got) != 4 {
			t.Errorf("time sent %d bytes, want 4", len(got))
		}
	})
	t.Run("chargen", func(t *testing.T) {
		leakCheck(t)
		_, addr := StartPacket(t, &inetd.Chargen{})
		c := dialUDP(t, addr)
		for range 20 {
			c.Write([]byte("?"))
			got := readDatagram(t, c)
			if len(got) > 512 || !bytes.Equal(got, inetd.ChargenStream(len(got))) {
				t.Fatalf("chargen datagram of %d bytes is not the RFC 864 pattern", len(got))
			}
		}
	})
	t.Run("qotd", func(t *testing.T) {
		leakCheck(t)
		_, addr := StartPacket(t, &inetd.QOTD{})
		c := dialUDP(t, addr)
		c.Write(nil)
		got := strings.TrimSuffix(string(readDatagram(t, c)), "\r\n")
		if !slices.Contains(inetd.DefaultQuotes, got) {
			t.Errorf("qotd sent %q", got)
		}
	})
	t.Run("truncation-counted", func(t *testing.T) {
		leakCheck(t)
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s := &server.PacketServer{Handler: inetd.Discard{}, ReadBufferSize: 100}
		go s.Serve(context.Background(), pc)
		defer s.Shutdown(context.Background())
		c := dialUDP(t, pc.LocalAddr().(*net.UDPAddr))
		c.Write(make([]byte, 1000))
		waitFor(t, "the truncated datagram to be counted", func() bool { return s.Stats().Truncated == 1 })
	})
}

func dialUDP(t testing.TB, addr *net.UDPAddr) *net.UDPConn {
	t.Helper()
	c, err := net.DialUDP("udp4", nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func readDatagram(t testing.TB, c *net.UDPConn) []byte {
	t.Helper()
	buf := make([]byte, 65536)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

func randomFill(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}
