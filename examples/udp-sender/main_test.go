package main

import (
	"context"
	"net"
	"strings"
	"testing"
)

func TestSender(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 100)
		n, from, err := pc.ReadFrom(buf)
		if err == nil {
			pc.WriteTo([]byte(strings.ToUpper(string(buf[:n]))), from)
		}
	}()
	var out strings.Builder
	if err := run(context.Background(), []string{"-addr", pc.LocalAddr().String(), "ping"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out.String(), `: "PING"`+"\n") {
		t.Errorf("printed %q", out.String())
	}
	// No one answers: the wait ends and says why.
	silent, _ := net.ListenPacket("udp", "127.0.0.1:0")
	defer silent.Close()
	err = run(context.Background(), []string{"-addr", silent.LocalAddr().String(), "-wait", "100ms"}, &out)
	if err == nil || !strings.Contains(err.Error(), "UDP promises nothing") {
		t.Errorf("silent peer: %v", err)
	}
}
