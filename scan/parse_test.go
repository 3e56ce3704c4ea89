package scan

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParsePorts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		err  string
	}{
		{"22,80,8000-8002", "[22 80 8000 8001 8002]", ""},
		{"80,22,80", "[22 80]", ""},
		{"65534-", "[65534 65535]", ""},
		{"-3", "[1 2 3]", ""},
		{"0", "", "port 0 cannot be connected to"},
		{"70000", "", `invalid port list item "70000"`},
		{"25-20", "", `backward range "25-20"`},
		{"22,,80", "", `invalid port list item ""`},
		{"http", "", `invalid port list item "http"`},
		{"", "", "empty port list"},
	} {
		got, err := ParsePorts(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParsePorts(%q) = %v, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != tc.want {
			t.Errorf("ParsePorts(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	if all, _ := ParsePorts("-"); len(all) != 65535 || all[0] != 1 || all[65534] != 65535 {
		t.Errorf("ParsePorts(-) has %d ports", len(all))
	}
}

func FuzzParsePorts(f *testing.F) {
	for _, s := range []string{"22", "1-65535", "80,443,8000-", "-", "-5,7"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ports, err := ParsePorts(s)
		if err != nil {
			return
		}
		if len(ports) == 0 || !slices.IsSorted(ports) || ports[0] == 0 {
			t.Fatalf("ParsePorts(%q) = %v", s, ports)
		}
	})
}

func TestTargets(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		args, exclude []string
		want          string
		err           string
	}{
		{[]string{"192.0.2.1", "192.0.2.1"}, nil, "[192.0.2.1]", ""},
		{[]string{"192.0.2.0/30"}, nil, "[192.0.2.0 192.0.2.1 192.0.2.2 192.0.2.3]", ""},
		{[]string{"192.0.2.0/29"}, []string{"192.0.2.2-192.0.2.5"}, "[192.0.2.0 192.0.2.1 192.0.2.6 192.0.2.7]", ""},
		{[]string{"2001:db8::1-2001:db8::2", "fe80::1%lo"}, nil, "[2001:db8::1 2001:db8::2 fe80::1%lo]", ""},
		{[]string{"localhost"}, nil, "[127.0.0.1]", ""},
		{[]string{"10.0.0.0/8"}, nil, "", "more than 1048576 addresses"},
		{[]string{"2001:db8::/64"}, nil, "", "more than 1048576 addresses"},
		{[]string{"192.0.2.300"}, nil, "", `target "192.0.2.300"`},
		{[]string{"host.invalid"}, nil, "", "never resolve"},
		{[]string{"a b"}, nil, "", "not an address"},
	} {
		got, err := Targets(ctx, nil, tc.args, tc.exclude)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Targets(%q) = %v, %v; want error %q", tc.args, got, err, tc.err)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != tc.want {
			t.Errorf("Targets(%q, exclude %q) = %v, %v; want %s", tc.args, tc.exclude, got, err, tc.want)
		}
	}
}

func TestSanitize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		http bool
		want string
	}{
		{"SSH-2.0-OpenSSH_9.2p1\r\nmore", false, "SSH-2.0-OpenSSH_9.2p1"},
		{"220 mail ESMTP\x1b[31m\r\n", false, `220 mail ESMTP\x1b[31m`},
		{"HTTP/1.0 200 OK\r\nDate: x\r\nserver: nginx/1.2\r\n\r\n", true, "HTTP/1.0 200 OK | Server: nginx/1.2"},
		{strings.Repeat("a", 300), false, strings.Repeat("a", 157) + "..."},
	} {
		if got := Sanitize([]byte(tc.in), tc.http); got != tc.want {
			t.Errorf("Sanitize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
