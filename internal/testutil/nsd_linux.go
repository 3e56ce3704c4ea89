package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// NSDZone runs NSD inside ns on 127.0.0.1:53 serving one zone file.
func NSDZone(t testing.TB, ns *Netns, origin, file string) {
	nsd := Program(t, "nsd")
	dir := t.TempDir()
	zone, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "z.zone"), zone, 0o644)
	conf := filepath.Join(dir, "nsd.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`server:
	ip-address: 127.0.0.1
	username: ""
	chroot: ""
	zonesdir: %q
	pidfile: %q
	database: ""
	xfrdfile: %q
	zonelistfile: %q
	logfile: %q
	rrl-ratelimit: 0
remote-control:
	control-enable: no
zone:
	name: %s
	zonefile: z.zone
`, dir, dir+"/nsd.pid", dir+"/xfrd.state", dir+"/zone.list", dir+"/nsd.log", origin)), 0o644)
	cmd := ns.Command(nsd, "-d", "-c", conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for range 50 {
		if b, _ := os.ReadFile(dir + "/nsd.log"); strings.Contains(string(b), "nsd started") {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(dir + "/nsd.log")
	t.Fatalf("nsd did not start: %s", b)
}
