package snmp

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/internal/testutil"
	"github.com/netkit-dev/netkit/server"
)

// snmptrapd starts net-snmp's trap receiver in a namespace of its own on
// 127.0.0.1:162, logging what it takes to the returned buffer.
func snmptrapd(t *testing.T) (*testutil.Netns, *testutil.SyncBuffer) {
	t.Helper()
	bin := testutil.Program(t, "snmptrapd")
	ns := testutil.NewNetns(t)
	dir := t.TempDir()
	persist := t.TempDir() // not dir: snmpd keeps state in a file named as its config
	conf := filepath.Join(dir, "snmptrapd.conf")
	os.WriteFile(conf, []byte("authCommunity log public\n"+
		"createUser -e 0x8000000001020304 "+testUser.Name+" SHA-256 "+testUser.AuthPass+" AES "+testUser.PrivPass+"\n"+
		"authUser log "+testUser.Name+" priv\n"), 0o600)
	out := daemon(t, ns, persist, bin, "-f", "-Lo", "-On", "-C", "-c", conf, "--persistentDir="+persist, "udp:127.0.0.1:162")
	waitFor(t, out, "NET-SNMP version")
	return ns, out
}

func waitFor(t *testing.T, out *testutil.SyncBuffer, what string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), what); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q within 10 s in:\n%s", what, out.String())
		}
	}
}

func TestNotifySnmptrapd(t *testing.T) {
	ns, out := snmptrapd(t)
	ctx := context.Background()
	c := dial162(t, ns, Config{Community: "public"})
	linkDown, _ := Resolve("linkDown")
	ifIndex, _ := Resolve("ifIndex.3")
	if err := c.Notify(ctx, linkDown, 4242, false, Var{OID: ifIndex, Type: Integer, Value: int64(3)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, out, ".1.3.6.1.6.3.1.1.5.3")
	if s := out.String(); !strings.Contains(s, ".1.3.6.1.2.1.2.2.1.1.3 = INTEGER: 3") || !strings.Contains(s, "(4242)") {
		t.Fatalf("snmptrapd did not log our bindings:\n%s", s)
	}
	// An inform waits for snmptrapd's answer.
	mine := OID{1, 3, 6, 1, 4, 1, 99999, 0, 1}
	if err := c.Notify(ctx, mine, 1, true, Var{OID: mine.Append(1), Type: OctetString, Value: []byte("disk full")}); err != nil {
		t.Fatalf("inform: %v", err)
	}
	waitFor(t, out, `"disk full"`)
	// A v3 trap, authenticated and encrypted, from the engine ID that
	// snmptrapd knows the user by.
	u := testUser
	u.EngineID = "0x8000000001020304"
	v3 := dial162(t, ns, Config{Version: V3, User: &u})
	if err := v3.Notify(ctx, mine, 2, false, Var{OID: mine.Append(2), Type: OctetString, Value: []byte("sealed")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, out, `"sealed"`)
}

func dial162(t *testing.T, ns *testutil.Netns, cfg Config) *Client {
	t.Helper()
	var c *Client
	if err := ns.Do(func() error {
		var err error
		c, err = Dial(context.Background(), "127.0.0.1:162", cfg)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestReceiveFromSnmptrap(t *testing.T) {
	testutil.Program(t, "snmptrap")
	got := make(chan Trap, 8)
	user := User{Name: "trapper", Auth: "SHA", AuthPass: "authpass-123", Priv: "AES", PrivPass: "privpass-123"}
	r := &TrapReceiver{Communities: []string{"public"}, Users: []User{user}, Handle: func(t Trap) { got <- t }, Dropped: func(from netip.AddrPort, why error) { t.Logf("dropped from %v: %v", from, why) }}
	if err := r.Init(); err != nil {
		t.Fatal(err)
	}
	pc := testutil.ListenPacket(t, "udp4")
	s := &server.PacketServer{Handler: r}
	go s.Serve(context.Background(), pc)
	defer s.Shutdown(context.Background())
	_, port, _ := net.SplitHostPort(pc.LocalAddr().String())
	target := "udp:127.0.0.1:" + port
	run := func(tool string, args ...string) {
		t.Helper()
		cmd := testutil.Program(t, tool)
		for i, a := range args {
			if a == "--" {
				args = append(args[:i:i], append([]string{target}, args[i+1:]...)...)
				break
			}
		}
		out, err := execEnv(cmd, args...)
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", tool, args, err, out)
		}
	}
	recv := func(what string) Trap {
		t.Helper()
		select {
		case tr := <-got:
			return tr
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s arrived", what)
		}
		return Trap{}
	}
	run("snmptrap", "-v2c", "-c", "public", "--", "", "1.3.6.1.6.3.1.1.5.4", "1.3.6.1.2.1.2.2.1.1.2", "i", "2")
	tr := recv("v2c trap")
	if tr.Version != "2c" || tr.Name != "IF-MIB::linkUp" || len(tr.Vars) != 1 || tr.Vars[0].Value != int64(2) {
		t.Errorf("v2c trap: %+v", tr)
	}
	run("snmpinform", "-v2c", "-c", "public", "-t", "2", "-r", "0", "--", "123", "1.3.6.1.4.1.99999.0.7", "1.3.6.1.4.1.99999.1", "s", "hello")
	tr = recv("inform")
	if !tr.Inform || tr.Uptime != 123 || string(tr.Vars[0].Value.([]byte)) != "hello" {
		t.Errorf("inform: %+v", tr)
	}
	run("snmptrap", "-v1", "-c", "public", "--", "1.3.6.1.4.1.99999", "192.0.2.1", "6", "17", "55", "1.3.6.1.4.1.99999.2", "s", "v1 says")
	tr = recv("v1 trap")
	if tr.Version != "1" || tr.TrapOID.String() != ".1.3.6.1.4.1.99999.0.17" || tr.Uptime != 55 {
		t.Errorf("v1 trap: %+v", tr)
	}
	run("snmptrap", "-v3", "-e", "0x8000000001020304", "-l", "authPriv", "-u", user.Name, "-a", "SHA", "-A", user.AuthPass, "-x", "AES", "-X", user.PrivPass, "--", "", "1.3.6.1.6.3.1.1.5.1")
	tr = recv("v3 trap")
	if tr.Version != "3" || tr.User != "trapper" || tr.Name != "SNMPv2-MIB::coldStart" {
		t.Errorf("v3 trap: %+v", tr)
	}
	// The wrong community and the wrong v3 passphrase are not taken.
	run("snmptrap", "-v2c", "-c", "other", "--", "", "1.3.6.1.6.3.1.1.5.4")
	run("snmptrap", "-v3", "-e", "0x8000000001020304", "-l", "authPriv", "-u", user.Name, "-a", "SHA", "-A", "wrong-pass-1", "-x", "AES", "-X", user.PrivPass, "--", "", "1.3.6.1.6.3.1.1.5.1")
	select {
	case tr := <-got:
		t.Errorf("took %+v", tr)
	case <-time.After(300 * time.Millisecond):
	}
}
