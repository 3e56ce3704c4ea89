package testutil

import (
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// DigResult is what dig or kdig printed, normalised through miekg/dns.
type DigResult struct {
	Rcode      string
	Flags      []string
	Answer, NS []string
	Size       int
}

var (
	digStatus = regexp.MustCompile(`status: ([A-Z]+)`)
	digFlags  = regexp.MustCompile(`(?i);; flags: ([a-z ]*);`)
	digSize   = regexp.MustCompile(`(?:MSG SIZE\s+rcvd: |Received )(\d+) B?`)
)

// ParseDig reads the output of dig or kdig.
func ParseDig(t testing.TB, out string) DigResult {
	t.Helper()
	var r DigResult
	if m := digStatus.FindStringSubmatch(out); m != nil {
		r.Rcode = m[1]
	}
	if m := digFlags.FindStringSubmatch(out); m != nil {
		r.Flags = strings.Fields(m[1])
	}
	if m := digSize.FindAllStringSubmatch(out, -1); m != nil {
		fmt.Sscan(m[len(m)-1][1], &r.Size)
	}
	section := ""
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.Contains(line, "ANSWER SECTION"):
			section = "answer"
		case strings.Contains(line, "AUTHORITY SECTION"):
			section = "authority"
		case strings.Contains(line, "SECTION"):
			section = ""
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, ";"):
		case section != "":
			rr, err := dns.NewRR(line)
			if err != nil {
				t.Fatalf("record line %q: %v", line, err)
			}
			if section == "answer" {
				r.Answer = append(r.Answer, CanonicalRR(t, rr))
			} else {
				r.NS = append(r.NS, CanonicalRR(t, rr))
			}
		}
	}
	slices.Sort(r.Answer)
	slices.Sort(r.NS)
	return r
}

// Has reports whether the header has a flag ("aa", "tc").
func (r DigResult) Has(flag string) bool { return slices.Contains(r.Flags, flag) }

// DigAt asks host:port with dig or kdig.
func DigAt(t testing.TB, tool, host, port, name, qtype string, opts ...string) DigResult {
	t.Helper()
	args := append([]string{"-p", port, "@" + host, name, qtype}, opts...)
	out, err := exec.Command(tool, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
	}
	return ParseDig(t, string(out))
}

// RR reads a record in presentation form and gives its canonical form.
func RR(t testing.TB, s string) string {
	t.Helper()
	x, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return CanonicalRR(t, x)
}

// CanonicalRR prints a record as its wire form reads back, so that
// presentation details (hex letter case) do not count.
func CanonicalRR(t testing.TB, x dns.RR) string {
	t.Helper()
	buf := make([]byte, 65535)
	off, err := dns.PackRR(x, buf, 0, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	y, _, err := dns.UnpackRR(buf[:off], 0)
	if err != nil {
		t.Fatal(err)
	}
	return y.String()
}
