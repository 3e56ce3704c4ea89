package snmp

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/internal/testutil"
)

// The v3 user of the snmpd the tests start: SHA-256 and AES-128.
var testUser = User{Name: "netkit", Auth: "SHA-256", AuthPass: "authpass-123", Priv: "AES", PrivPass: "privpass-123"}

// snmpd starts net-snmp's agent in a namespace of its own, on
// 127.0.0.1:161, serving a stable part of the MIB (no process or storage
// tables, which change between two walks) to community "public" (read),
// "private" (write) and the v3 user testUser (authPriv).
func snmpd(t *testing.T) *testutil.Netns {
	t.Helper()
	bin := testutil.Program(t, "snmpd")
	ns := testutil.NewNetns(t)
	dir := t.TempDir()
	persist := t.TempDir() // not dir: snmpd keeps state in a file named as its config
	conf := filepath.Join(dir, "snmpd.conf")
	os.WriteFile(conf, []byte(`agentAddress udp:127.0.0.1:161
view stable included .1.3.6.1.2.1.1
view stable included .1.3.6.1.2.1.2
view stable included .1.3.6.1.2.1.4.1
view stable included .1.3.6.1.2.1.4.2
view stable included .1.3.6.1.2.1.4.20
view stable included .1.3.6.1.2.1.31.1.1
view stable included .1.3.6.1.2.1.11
view stable excluded .1.3.6.1.2.1.1.9
rocommunity public 127.0.0.1 -V stable
rwcommunity private 127.0.0.1 -V stable
createUser `+testUser.Name+` SHA-256 "`+testUser.AuthPass+`" AES "`+testUser.PrivPass+`"
rouser `+testUser.Name+` priv -V stable
sysLocation rack 7, test lab
sysName netkit-test
`), 0o600)
	out := daemon(t, ns, persist, bin, "-f", "-Lo", "-C", "-c", conf, "-p", filepath.Join(dir, "pid"), "--persistentDir="+persist)
	// Ready when it answers.
	for deadline := time.Now().Add(10 * time.Second); ; {
		if ns.Command("snmpget", "-v2c", "-c", "public", "-t", "0.2", "-r", "0", "127.0.0.1", ".1.3.6.1.2.1.1.5.0").Run() == nil {
			return ns
		}
		if time.Now().After(deadline) {
			t.Fatalf("snmpd did not answer within 10 s:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dial makes a client inside ns.
func dial(t *testing.T, ns *testutil.Netns, cfg Config) *Client {
	t.Helper()
	var c *Client
	err := ns.Do(func() error {
		var err error
		c, err = Dial(context.Background(), "127.0.0.1:161", cfg)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// netsnmpWalk runs snmpbulkwalk (or another tool) and returns its lines as
// OID -> "TYPE: value", numeric OIDs, enums as numbers, hex strings in hex.
func netsnmpWalk(t *testing.T, ns *testutil.Netns, tool string, args ...string) (map[string]string, []string) {
	t.Helper()
	testutil.Program(t, tool)
	cmd := ns.Command(tool, append([]string{"-On", "-Oe", "-Ot", "-Ox"}, args...)...)
	cmd.Env = append(os.Environ(), "MIBS=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
	}
	m := map[string]string{}
	var order []string
	for line := range strings.Lines(string(out)) {
		oid, val, ok := strings.Cut(strings.TrimSpace(line), " = ")
		if !ok || !strings.HasPrefix(oid, ".") {
			if len(order) > 0 { // a long hex string goes on over lines
				m[order[len(order)-1]] += " " + strings.TrimSpace(line)
			}
			continue
		}
		m[oid] = val
		order = append(order, oid)
	}
	return m, order
}

func TestWalkMatchesSnmpbulkwalk(t *testing.T) {
	ns := snmpd(t)
	for _, tc := range []struct {
		name string
		cfg  Config
		args []string
	}{
		{"v2c", Config{Community: "public"}, []string{"-v2c", "-c", "public"}},
		{"v3-authPriv", Config{Version: V3, User: &testUser}, []string{"-v3", "-l", "authPriv", "-u", testUser.Name, "-a", "SHA-256", "-A", testUser.AuthPass, "-x", "AES", "-X", testUser.PrivPass}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, ns, tc.cfg)
			vars, st, err := c.WalkAll(context.Background(), OID{1, 3, 6, 1, 2, 1}, WalkOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// With Parallel (on loopback it splits nothing: the agent sets
			// the pace): the same bindings in the same order.
			// (Its extra sockets are opened by the calling thread: in the
			// namespace.)
			var par []Var
			var pst WalkStats
			err = ns.Do(func() error {
				par, pst, err = c.WalkAll(context.Background(), OID{1, 3, 6, 1, 2, 1}, WalkOptions{Parallel: 4})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(par) != len(vars) {
				t.Fatalf("parallel walk: %d bindings in %d parts; one at a time: %d", len(par), pst.Parts, len(vars))
			}
			for i := range par {
				if par[i].OID.Compare(vars[i].OID) != 0 {
					t.Fatalf("parallel walk binding %d is %s, not %s", i, par[i].OID, vars[i].OID)
				}
			}
			theirs, order := netsnmpWalk(t, ns, "snmpbulkwalk", append(tc.args, "-Cr50", "127.0.0.1", ".1.3.6.1.2.1")...)
			if len(vars) != len(theirs) || len(vars) < 50 {
				t.Fatalf("walked %d bindings, snmpbulkwalk %d", len(vars), len(theirs))
			}
			for i, v := range vars {
				if v.OID.String() != order[i] {
					t.Fatalf("binding %d is %s, snmpbulkwalk's %s", i, v.OID, order[i])
				}
				want, got := theirs[order[i]], netsnmpText(v)
				volatile := v.Type == Counter32 || v.Type == Counter64 || v.Type == TimeTicks || v.Type == Gauge32
				if volatile {
					got, want = v.Type.String(), strings.SplitN(want, ":", 2)[0]
					if v.Type == TimeTicks && !strings.Contains(want, ":") {
						want = "Timeticks" // -Ot prints the bare number
					}
				}
				if strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(want), " ") {
					t.Errorf("%s: we read %q, snmpbulkwalk %q", v.OID, got, want)
				}
			}
			if st.MaxRepetitions <= 10 || st.Requests >= len(vars)/10 {
				t.Errorf("the walk did not grow max-repetitions: %+v", st)
			}
			t.Logf("%d bindings in %d requests, max-repetitions up to %d", st.Vars, st.Requests, st.MaxRepetitions)
		})
	}
}

func TestGetSetAgainstSnmpd(t *testing.T) {
	ns := snmpd(t)
	ctx := context.Background()
	c := dial(t, ns, Config{Community: "public"})
	sysName, _ := Resolve("sysName.0")
	missing, _ := Resolve("sysName.7")
	vars, err := c.Get(ctx, sysName, missing)
	if err != nil {
		t.Fatal(err)
	}
	if len(vars) != 2 || string(vars[0].Value.([]byte)) != "netkit-test" || vars[1].Type != NoSuchInstance {
		t.Fatalf("get: %v", vars)
	}
	if got := vars[0].String(); got != "SNMPv2-MIB::sysName.0 = STRING: netkit-test" {
		t.Errorf("String() = %q", got)
	}
	// v1 answers a missing OID with noSuchName, naming it.
	v1 := dial(t, ns, Config{Version: V1, Community: "public"})
	_, err = v1.Get(ctx, sysName, missing)
	if se, ok := err.(*Error); !ok || se.Status != "noSuchName" || se.OID.Compare(missing) != 0 {
		t.Fatalf("v1 get of a missing OID: %v", err)
	}
	// A write with the read community is refused; with the write
	// community it lands (sysContact is not set in snmpd.conf).
	contact, _ := Resolve("sysContact.0")
	val, err := ParseValue(contact, "s", "ops@example.net")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Set(ctx, val); err == nil {
		t.Fatal("set with the read-only community worked")
	} else if se, ok := err.(*Error); !ok || se.Status != "noAccess" && se.Status != "notWritable" {
		t.Fatalf("set with the read-only community: %v", err)
	}
	rw := dial(t, ns, Config{Community: "private"})
	if _, err := rw.Set(ctx, val); err != nil {
		t.Fatal(err)
	}
	got := ns.Run(t, "snmpget", "-v2c", "-c", "public", "-Ov", "-Oq", "127.0.0.1", ".1.3.6.1.2.1.1.4.0")
	if strings.Trim(strings.TrimSpace(got), `"`) != "ops@example.net" {
		t.Fatalf("snmpget after our set: %q", got)
	}
	// A wrong type is the agent's wrongType, named.
	bad, _ := ParseValue(contact, "i", "5")
	if _, err := rw.Set(ctx, bad); err == nil || !strings.Contains(err.Error(), "wrongType") || !strings.Contains(err.Error(), "sysContact.0") {
		t.Fatalf("set of the wrong type: %v", err)
	}
}

func TestWrongCommunityTimesOut(t *testing.T) {
	ns := snmpd(t)
	c := dial(t, ns, Config{Community: "not-the-one", Timeout: 200 * time.Millisecond})
	_, err := c.Get(context.Background(), OID{1, 3, 6, 1, 2, 1, 1, 5, 0})
	se, ok := err.(*Error)
	if !ok || !se.Timeout() || !strings.Contains(err.Error(), "127.0.0.1:161") {
		t.Fatalf("wrong community: %v", err)
	}
}

// daemon starts a net-snmp daemon in ns, keeping its state in persist,
// and stops it when the test ends, showing what it said if the test
// failed.
func daemon(t *testing.T, ns *testutil.Netns, persist, bin string, args ...string) *testutil.SyncBuffer {
	t.Helper()
	cmd := ns.Command(bin, args...)
	cmd.Env = append(os.Environ(), "SNMP_PERSISTENT_DIR="+persist, "MIBS=")
	out := &testutil.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s said:\n%s", filepath.Base(bin), out.String())
		}
	})
	return out
}
