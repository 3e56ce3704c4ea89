package cli

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/netkit-dev/netkit/internal/testutil"
)

func TestScanCommand(t *testing.T) {
	ns := testutil.NewNetns(t)
	var want []uint16
	err := ns.Do(func() error {
		for range 40 {
			l, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				return err
			}
			t.Cleanup(func() { l.Close() })
			want = append(want, uint16(l.Addr().(*net.TCPAddr).Port))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	dir := t.TempDir()
	grep := filepath.Join(dir, "out.gnmap")
	var out, errOut string
	var code int
	ns.Do(func() error {
		out, errOut, code = run(t, "--json", "scan", "127.0.0.1", "-p-", "-oG", grep) // nmap's spelling of -G
		return nil
	})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep scanReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	var got []uint16
	for _, p := range rep.Targets[0].Ports {
		if p.State == "open" {
			got = append(got, p.Port)
		}
	}
	if !slices.Equal(got, want) || rep.Closed != 65535-40 || rep.Targets[0].Address != "127.0.0.1" {
		t.Errorf("open %v\nwant %v\n%+v", got, want, rep)
	}
	g, _ := os.ReadFile(grep)
	if !strings.Contains(string(g), fmt.Sprintf("Ports: %d/open/tcp//", want[0])) || !strings.Contains(string(g), "Ignored State: closed (65495)") {
		t.Errorf("grepable output:\n%s", g)
	}

	// A firewall policy: one expectation wrong.
	policy := filepath.Join(dir, "policy")
	os.WriteFile(policy, []byte(fmt.Sprintf("# policy\n127.0.0.1 %d open\n127.0.0.1 %d/tcp open\n127.0.0.1 %d closed\n", want[0], want[1], want[2])), 0o600)
	ns.Do(func() error {
		out, errOut, code = run(t, "scan", "--expect", policy)
		return nil
	})
	if code != 1 || !strings.Contains(out, fmt.Sprintf("%s:4: 127.0.0.1 port %d/tcp: expected closed, found open", policy, want[2])) || strings.Contains(out, policy+":2") {
		t.Errorf("--expect: exit %d\n%s%s", code, out, errOut)
	}
	os.WriteFile(policy, []byte(fmt.Sprintf("127.0.0.1 %d open\n127.0.0.1 1 closed\n", want[0])), 0o600)
	ns.Do(func() error {
		_, _, code = run(t, "scan", "--expect", policy)
		return nil
	})
	if code != 0 {
		t.Errorf("--expect, all as expected: exit %d", code)
	}
}

func TestScanBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "127.0.0.1", "-p", "0"}, "port 0 cannot be connected to"},
		{[]string{"scan", "127.0.0.1", "-p", "1-70000"}, `invalid port list item "1-70000"`},
		{[]string{"scan", "10.0.0.0/8"}, "more than 1048576 addresses"},
		{[]string{"scan", "127.0.0.1", "-p", "22", "--top", "5"}, "exclude each other"},
		{[]string{"scan"}, "at least one TARGET"},
		{[]string{"scan", "127.0.0.1", "--exclude", "127.0.0.1"}, "no target left"},
		{[]string{"scan", "--expect", "/nonexistent/policy"}, "--expect"},
		{[]string{"scan", "127.0.0.1", "--timeout", "0s"}, "invalid --timeout"},
	} {
		_, errOut, code := run(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}
