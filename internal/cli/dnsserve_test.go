package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/netkit-dev/netkit/internal/testutil"
)

// startDNSServe runs netkit dns serve on a free loopback port and returns
// the port.
func startDNSServe(t *testing.T, args ...string) (*running, string) {
	t.Helper()
	r := start(t, nil, append([]string{"dns", "serve", "--listen", "127.0.0.1:0"}, args...)...)
	return r, find(t, r.out, `udp://127\.0\.0\.1:(\d+)`)
}

func TestDNSServeReload(t *testing.T) {
	testutil.Program(t, "dig")
	dir := t.TempDir()
	zone := filepath.Join(dir, "r.zone")
	write := func(serial int, www string) {
		os.WriteFile(zone, []byte(fmt.Sprintf("$ORIGIN r.test.\n$TTL 60\n@ SOA ns h %d 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nwww A %s\n", serial, www)), 0o600)
	}
	write(1, "192.0.2.10")
	r, port := startDNSServe(t, "--zone", zone)
	answer := func() []string { return testutil.DigAt(t, "dig", "127.0.0.1", port, "www.r.test", "A").Answer }
	if a := answer(); len(a) != 1 || !strings.Contains(a[0], "192.0.2.10") {
		t.Fatalf("before reload: %q", a)
	}
	// A broken file: the error names the file and line; the old data stays.
	write(2, "192.0.2.300")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	find(t, r.err, `reload failed, still serving the old zones: `+regexp.QuoteMeta(zone)+`: .*line: 6`)
	if a := answer(); len(a) != 1 || !strings.Contains(a[0], "192.0.2.10") {
		t.Errorf("after a failed reload: %q", a)
	}
	write(3, "192.0.2.11")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	find(t, r.out, `zone r\.test\. serial 3`)
	if a := answer(); len(a) != 1 || !strings.Contains(a[0], "192.0.2.11") {
		t.Errorf("after reload: %q", a)
	}
}

func TestDNSServeBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.zone")
	os.WriteFile(bad, []byte("$ORIGIN b.test.\n@ 60 SOA ns h 1 2 3 4 5\n@ 60 NS ns\nns 60 A 192.0.2.999\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--zone", bad}, bad + ": dns: bad A A: \"192.0.2.999\" at line: 4"},
		{[]string{"--zone", filepath.Join(dir, "missing.zone")}, "missing.zone: no such file"},
		{nil, "needs something to serve"},
		{[]string{"--zone", "testdata/dns/serve.zone", "--listen", "localhost:53"}, "literal address"},
		{[]string{"--forward", "ftp://x"}, "the scheme must be"},
		{[]string{"--forward", "127.0.0.1", "--udp-size", "100"}, "below 512"},
		{[]string{"--forward", "127.0.0.1", "--allow-transfer", "300.0.0.1"}, "300.0.0.1"},
	} {
		_, errOut, code := run(t, append([]string{"dns", "serve"}, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("dns serve %q: exit %d %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

func TestDNSServeForwardsAndLogs(t *testing.T) {
	upstream := testutil.DNS(t, zoneHandler(t))
	r, port := startDNSServe(t, "--forward", upstream, "--json", "--query-log")
	for range 2 {
		out, errOut, code := run(t, "dns", "lookup", "--short", "www.test.example", "@127.0.0.1:"+port)
		if code != 0 || strings.TrimSpace(out) != "192.0.2.10" {
			t.Fatalf("through the forwarder: exit %d %q %q", code, out, errOut)
		}
	}
	find(t, r.out, `"event":"query".*"name":"www.test.example.","type":"A","rcode":"NOERROR","flags":"rd ra".*"source":"upstream"`)
	find(t, r.out, `"event":"query".*"source":"(cache|fast)"`)
}
