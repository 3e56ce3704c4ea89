package services

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestBuiltin(t *testing.T) {
	tb := Builtin()
	for _, tc := range []struct {
		port  uint16
		proto Proto
		name  string
	}{{80, "tcp", "http"}, {443, "tcp", "https"}, {53, "udp", "domain"}, {22, "tcp", "ssh"}, {123, "udp", "ntp"}, {12345, "tcp", "italk"}} {
		if got := tb.Name(tc.port, tc.proto); got != tc.name {
			t.Errorf("%d/%s = %q, want %q", tc.port, tc.proto, got, tc.name)
		}
	}
	if tb.Name(80, "udp") != "" {
		t.Error("80/udp has a name")
	}
	if got := tb.ByName("DOMAIN", ""); len(got) != 2 || got[0].Proto != "tcp" || got[1].Proto != "udp" {
		t.Errorf("ByName(domain) = %+v", got)
	}
	if top := tb.Top(3, "tcp"); !slices.Equal(top, []uint16{80, 443, 22}) {
		t.Errorf("Top(3) = %v", top)
	}
	// Ranks are distinct per protocol, so --top N is well defined.
	for _, proto := range []Proto{TCP, UDP} {
		seen := map[int]bool{}
		for _, s := range tb.All() {
			if s.Proto == proto {
				if seen[s.Rank] {
					t.Errorf("rank %d/%s used twice", s.Rank, proto)
				}
				seen[s.Rank] = true
			}
		}
	}
}

func TestOverlay(t *testing.T) {
	base := Builtin()
	tb, err := base.Overlay(strings.NewReader(`# comment
www		80/tcp		http-www web   # the system's name
myapp	7777/tcp	mine
sctp-thing	9/sctp
broken line
bad	99999/tcp
`), "test-services")
	if err == nil || !strings.Contains(err.Error(), "lines 5, 6") {
		t.Errorf("err = %v, want lines 5 and 6 named", err)
	}
	s, _ := tb.ByPort(80, "tcp")
	if s.Name != "www" || s.Rank != 1 || s.Source != "test-services" || !slices.Contains(s.Aliases, "http") {
		t.Errorf("80/tcp = %+v", s)
	}
	if got := tb.ByName("http", "tcp"); len(got) != 1 || got[0].Port != 80 {
		t.Errorf("the old name no longer finds 80: %+v", got)
	}
	if s, ok := tb.ByPort(7777, "tcp"); !ok || s.Rank != 0 || s.Name != "myapp" {
		t.Errorf("7777 = %+v", s)
	}
	if tb.ByName("mine", "") == nil {
		t.Error("alias not indexed")
	}
	// The table it was laid over is unchanged, and a caller cannot change
	// a table through what a lookup returns.
	if s, _ := base.ByPort(80, "tcp"); s.Name != "http" || base.Name(7777, "tcp") != "" {
		t.Errorf("Overlay changed the base table: 80/tcp = %+v", s)
	}
	s80, _ := tb.ByPort(80, "tcp")
	s80.Aliases[0] = "changed"
	if again, _ := tb.ByPort(80, "tcp"); again.Aliases[0] == "changed" {
		t.Error("a returned Service shares its aliases with the table")
	}
}

func TestDefaultReadsTheSystemFile(t *testing.T) {
	if _, err := os.Stat("/etc/services"); err != nil {
		t.Skip("no /etc/services here")
	}
	fromSystem := 0
	for _, s := range Default().All() {
		if s.Source == "/etc/services" {
			fromSystem++
		}
	}
	if fromSystem == 0 {
		t.Error("no entry of Default() came from /etc/services")
	}
}

func TestFind(t *testing.T) {
	tb := Builtin()
	found, unknown, err := tb.Find([]string{"53", "no-such-service", "HTTPS"}, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range found {
		got = append(got, fmt.Sprintf("%s/%d/%s", s.Name, s.Port, s.Proto))
	}
	if want := []string{"domain/53/tcp", "domain/53/udp", "https/443/tcp", "https/443/udp"}; !slices.Equal(got, want) {
		t.Errorf("Find = %v, want %v", got, want)
	}
	if !slices.Equal(unknown, []string{"no-such-service"}) {
		t.Errorf("unknown = %v", unknown)
	}
	if found, _, _ := tb.Find([]string{"53"}, UDP); len(found) != 1 || found[0].Proto != UDP {
		t.Errorf("Find(53, udp) = %+v", found)
	}
	for _, bad := range []string{"0", "65536", "99999999999999999999"} {
		if _, _, err := tb.Find([]string{bad}, ""); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("Find(%s): %v, want an error naming it", bad, err)
		}
	}
	if n := len(tb.Of(UDP)); n == 0 || n >= len(tb.All()) {
		t.Errorf("Of(udp) has %d of %d services", n, len(tb.All()))
	}
}
