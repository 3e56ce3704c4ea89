package dnsserver

import (
	"context"
	"strings"
	"testing"
)

func TestListenForms(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		addr     string
		udp, tcp bool
		wantErr  string
	}{
		{addr: "127.0.0.1:0", udp: true, tcp: true},
		{addr: "udp://127.0.0.1:0", udp: true},
		{addr: "tcp://127.0.0.1:0", tcp: true},
		{addr: "[::1]:0", udp: true, tcp: true},
		{addr: "localhost:53", wantErr: "literal address"},
		{addr: "unix:///tmp/x", wantErr: "served over udp and tcp"},
		{addr: "127.0.0.1:99999", wantErr: "invalid port"},
	}
	for _, tt := range tests {
		k, err := Listen(ctx, tt.addr)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Listen(%q) = %v, want %q", tt.addr, err, tt.wantErr)
			}
			if err == nil {
				k.Close()
			}
			continue
		}
		if err != nil {
			if strings.Contains(tt.addr, "::1") {
				t.Logf("no IPv6 loopback: %v", err)
				continue
			}
			t.Fatalf("Listen(%q): %v", tt.addr, err)
		}
		if (k.UDP != nil) != tt.udp || (k.TCP != nil) != tt.tcp {
			t.Errorf("Listen(%q) = udp %v tcp %v", tt.addr, k.UDP != nil, k.TCP != nil)
		}
		if tt.udp && tt.tcp {
			eps := k.Endpoints()
			if len(eps) != 2 || strings.TrimPrefix(eps[0], "udp://") != strings.TrimPrefix(eps[1], "tcp://") {
				t.Errorf("both on one port: %v", eps)
			}
		}
		k.Close()
	}
}
