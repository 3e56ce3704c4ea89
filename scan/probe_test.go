package scan

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/netkit-dev/netkit/endpoint"
)

func TestParseHostPorts(t *testing.T) {
	tests := []struct {
		in      string
		host    string
		ports   []uint16
		wantErr string
	}{
		{in: "tcp://127.0.0.1:20-25,80", host: "127.0.0.1", ports: []uint16{20, 21, 22, 23, 24, 25, 80}},
		{in: "127.0.0.1:80,22,80", host: "127.0.0.1", ports: []uint16{22, 80}},
		{in: "tcp6://[::1]:1-2", host: "::1", ports: []uint16{1, 2}},
		{in: "tcp://localhost:65535", host: "localhost", ports: []uint16{65535}},
		{in: "tcp://h:0", wantErr: "port 0"},
		{in: "tcp://h:1-65536", wantErr: `invalid port list item "1-65536"`},
		{in: "tcp://h:8,", wantErr: `invalid port list item ""`},
		{in: "tcp://h:+1", wantErr: `invalid port list item "+1"`},
		{in: "tcp://h:9-3", wantErr: "backward range"},
		{in: "tcp://::1:80", wantErr: "brackets"},
		{in: "tcp://h", wantErr: "missing port"},
		{in: "tcp://010.0.0.1:80", wantErr: "leading zero"},
		{in: "unix:///x", wantErr: "zero-I/O checks (-z) are for tcp"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseHostPorts(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !isParseError(err) {
					t.Fatalf("ParseHostPorts(%q) = %v, want *endpoint.ParseError containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Host != tt.host || !slices.Equal(got.Ports, tt.ports) {
				t.Fatalf("ParseHostPorts(%q) = %+v, %v", tt.in, got, err)
			}
		})
	}
}

// FuzzParseHostPorts: never panics; what parses has sorted, distinct,
// non-zero ports whose endpoints parse.
func FuzzParseHostPorts(f *testing.F) {
	for _, s := range []string{"tcp://127.0.0.1:20-25,80", "[::1]:1", "h:1,2,3-4", "tcp4://a.b:0", "tcp://::1:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.Count(s, "-") > 3 || len(s) > 200 {
			return // keep ranges small enough to expand quickly
		}
		spec, err := ParseHostPorts(s)
		if err != nil {
			if !isParseError(err) {
				t.Fatalf("ParseHostPorts(%q): error %v is not an *endpoint.ParseError", s, err)
			}
			return
		}
		if len(spec.Ports) == 0 || !slices.IsSorted(spec.Ports) || len(slices.Compact(slices.Clone(spec.Ports))) != len(spec.Ports) || spec.Ports[0] == 0 {
			t.Fatalf("ParseHostPorts(%q) ports %v", s, spec.Ports)
		}
		e := endpoint.Endpoint{Scheme: spec.Scheme, Host: spec.Host, Port: spec.Ports[0]}
		if _, err := endpoint.Parse(e.String()); err != nil {
			t.Fatalf("ParseHostPorts(%q) gave endpoint %s that does not parse: %v", s, e, err)
		}
	})
}

func isParseError(err error) bool {
	_, ok := errors.AsType[*endpoint.ParseError](err)
	return ok
}
