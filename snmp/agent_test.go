package snmp

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/netkit-dev/netkit/impair"
	"github.com/netkit-dev/netkit/internal/testutil"
	"github.com/netkit-dev/netkit/server"
)

// startAgent serves h on a loopback UDP port and returns its address.
func startAgent(t testing.TB, h server.PacketHandler) string {
	t.Helper()
	pc := testutil.ListenPacket(t, "udp4")
	s := &server.PacketServer{Handler: h}
	go s.Serve(context.Background(), pc)
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return pc.LocalAddr().String()
}

// fixedMIB is a small MIB of every type, with a table of n rows.
func fixedMIB(n int) []Var {
	vars := SystemVars(System{Descr: "test agent", Name: "agent-1", Contact: "ops", Location: "lab", ObjectID: OID{1, 3, 6, 1, 4, 1, 99999}}, 4242)
	rows := make([]Interface, n)
	for i := range rows {
		rows[i] = Interface{Index: i + 1, Name: "eth" + strconv.Itoa(i), Type: 6, MTU: 1500, SpeedMbps: 1000,
			MAC: net.HardwareAddr{2, 0, 0, 0, byte(i >> 8), byte(i)}, AdminUp: true, OperStatus: 1, Alias: "uplink " + strconv.Itoa(i)}
		rows[i].Counters.RxBytes = 1<<33 + uint64(i) // past 32 bits: Counter32 wraps, Counter64 does not
		rows[i].Counters.TxPackets = uint64(i * 10)
	}
	vars = append(vars, InterfaceVars(rows)...)
	vars = append(vars, Var{OID: OID{1, 3, 6, 1, 2, 1, 4, 20, 1, 1, 192, 0, 2, 1}, Type: IPAddress, Value: netip.MustParseAddr("192.0.2.1")})
	return vars
}

func TestAgentAnswersNetSNMPTools(t *testing.T) {
	mib := fixedMIB(3)
	a := &Agent{Community: "s3cret", MIB: func() ([]Var, error) { return mib, nil }}
	addr := startAgent(t, a)
	host, port, _ := net.SplitHostPort(addr)
	target := "udp:" + host + ":" + port
	c, err := Dial(context.Background(), addr, Config{Community: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ours, _, err := c.WalkAll(context.Background(), OID{1}, WalkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ours) != len(mib) {
		t.Fatalf("our walk of our agent: %d bindings, the MIB has %d", len(ours), len(mib))
	}

	for _, tool := range []struct {
		name string
		args []string
	}{
		{"snmpwalk", []string{"-v1"}},
		{"snmpwalk", []string{"-v2c"}},
		{"snmpbulkwalk", []string{"-v2c", "-Cr7"}},
	} {
		testutil.Program(t, tool.name)
		cmd := exec.Command(tool.name, append(tool.args, "-c", "s3cret", "-On", "-Oe", "-Ot", "-Ox", "-t", "2", target, ".1")...)
		cmd.Env = append(os.Environ(), "MIBS=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", tool.name, tool.args, err, out)
		}
		var lines []string
		for line := range strings.Lines(string(out)) {
			if strings.Contains(line, "End of MIB") || strings.Contains(line, "No more variables left") {
				continue // how the tools say the walk ended
			}
			if strings.HasPrefix(line, ".") {
				lines = append(lines, line)
			} else if len(lines) > 0 {
				lines[len(lines)-1] += " " + line
			}
		}
		if len(lines) != len(ours) {
			t.Fatalf("%s %v: %d bindings, we serve %d:\n%s", tool.name, tool.args, len(lines), len(ours), out)
		}
		for i, line := range lines {
			oid, val, _ := strings.Cut(line, " = ")
			if oid != ours[i].OID.String() || strings.Join(strings.Fields(val), " ") != strings.Join(strings.Fields(netsnmpText(ours[i])), " ") {
				t.Errorf("%s %v line %d: %s = %s; we serve %s = %s", tool.name, tool.args, i, oid, val, ours[i].OID, netsnmpText(ours[i]))
			}
		}
	}
	// snmpget of a missing instance, and a set, which the agent refuses.
	out, _ := exec.Command("snmpget", "-v2c", "-c", "s3cret", "-On", target, "1.3.6.1.2.1.1.5.1").CombinedOutput()
	if !strings.Contains(string(out), "No Such Instance") {
		t.Errorf("snmpget of sysName.1: %s", out)
	}
	out, err = exec.Command("snmpset", "-v2c", "-c", "s3cret", target, "1.3.6.1.2.1.1.5.0", "s", "x").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "notWritable") {
		t.Errorf("snmpset: %v %s", err, out)
	}
	st := a.Stats()
	if st.Answers == 0 || st.BadPackets != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestAgentHostMIB(t *testing.T) {
	a := &Agent{MIB: HostMIB(System{Location: "here"})}
	c, err := Dial(context.Background(), startAgent(t, a), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ifTable, _ := Resolve("ifTable")
	tb, _, err := c.ReadTable(context.Background(), ifTable, WalkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lo := false
	for _, r := range tb.Rows {
		if string(r.Cells[2].Value.([]byte)) == "lo" {
			lo = r.Cells[3].Value == int64(24) && r.Cells[8].Value == int64(1)
		}
	}
	if !lo || len(tb.Columns) != 22 {
		t.Fatalf("ifTable has no loopback row of type 24, up, or not 22 columns: %+v", tb)
	}
}

// badAgent answers every request as its handler says.
type badAgent func(req *gosnmp.SnmpPacket) *gosnmp.SnmpPacket

func (f badAgent) ServePacket(w server.PacketWriter, p []byte, from netip.AddrPort) {
	req, err := decode(p)
	if err != nil {
		return
	}
	resp := f(req)
	if resp == nil {
		return
	}
	resp.Version, resp.Community, resp.PDUType, resp.RequestID = req.Version, req.Community, gosnmp.GetResponse, req.RequestID
	b, err := resp.MarshalMsg()
	if err == nil {
		w.WriteTo(b, from)
	}
}

func TestWalkStopsOnBrokenAgents(t *testing.T) {
	ctx := context.Background()
	// An agent that answers every GETBULK with the OID asked for.
	loop := startAgent(t, badAgent(func(req *gosnmp.SnmpPacket) *gosnmp.SnmpPacket {
		return &gosnmp.SnmpPacket{Variables: []gosnmp.SnmpPDU{{Name: req.Variables[0].Name + ".0", Type: gosnmp.Integer, Value: 1}, {Name: req.Variables[0].Name, Type: gosnmp.Integer, Value: 1}}}
	}))
	c, _ := Dial(ctx, loop, Config{Timeout: time.Second})
	defer c.Close()
	_, _, err := c.WalkAll(ctx, OID{1, 3, 6}, WalkOptions{})
	if !errors.Is(err, ErrNotIncreasing) || !strings.Contains(err.Error(), loop) {
		t.Fatalf("walk of a looping agent: %v", err)
	}
	// An agent that says tooBig above 12 repetitions, and ends after 100
	// bindings: the walk halves and still gets all of them.
	tooBig := startAgent(t, badAgent(func(req *gosnmp.SnmpPacket) *gosnmp.SnmpPacket {
		if req.MaxRepetitions > 12 {
			return &gosnmp.SnmpPacket{Error: gosnmp.TooBig}
		}
		o, _ := ParseOID(req.Variables[0].Name)
		n := uint32(0)
		if len(o) > 3 {
			n = o[3] + 1
		}
		resp := &gosnmp.SnmpPacket{}
		for i := range req.MaxRepetitions {
			name := OID{1, 3, 6, n + i}.String()
			if n+i >= 100 {
				name = OID{1, 3, 7}.String()
			}
			resp.Variables = append(resp.Variables, gosnmp.SnmpPDU{Name: name, Type: gosnmp.Integer, Value: int(n + i)})
		}
		return resp
	}))
	c2, _ := Dial(ctx, tooBig, Config{})
	defer c2.Close()
	vars, st, err := c2.WalkAll(ctx, OID{1, 3, 6}, WalkOptions{})
	if err != nil || len(vars) != 100 || st.Halvings == 0 || st.MaxRepetitions <= 12 {
		t.Fatalf("walk through tooBig: %d bindings, %+v, %v", len(vars), st, err)
	}
	// An agent that never answers: a timeout naming the agent and OID.
	silent := startAgent(t, badAgent(func(*gosnmp.SnmpPacket) *gosnmp.SnmpPacket { return nil }))
	c3, _ := Dial(ctx, silent, Config{Timeout: 100 * time.Millisecond})
	defer c3.Close()
	_, err = c3.Get(ctx, OID{1, 3, 6, 1, 2, 1, 1, 5, 0})
	if se, ok := errors.AsType[*Error](err); !ok || !se.Timeout() || !strings.Contains(err.Error(), "sysName.0") {
		t.Fatalf("silent agent: %v", err)
	}
}

func TestAgentDropsWhatItDoesNotServe(t *testing.T) {
	a := &Agent{MIB: func() ([]Var, error) { return fixedMIB(1), nil }}
	if a.Answer([]byte("not snmp")) != nil || a.Answer(nil) != nil {
		t.Error("answered garbage")
	}
	g := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: "wrong"}
	b, _ := g.SnmpEncodePacket(gosnmp.GetRequest, []gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.1.5.0", Type: gosnmp.Null}}, 0, 0)
	if a.Answer(b) != nil {
		t.Error("answered another community")
	}
	st := a.Stats()
	if st.BadPackets != 2 || st.BadCommunity != 1 || st.Answers != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestBulkFitsTheMessage: a bulk answer is cut to MaxMessage.
func TestBulkFitsTheMessage(t *testing.T) {
	a := &Agent{MIB: func() ([]Var, error) { return fixedMIB(200), nil }, MaxMessage: 1400}
	g := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: "public"}
	b, _ := g.SnmpEncodePacket(gosnmp.GetBulkRequest, []gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.2.2", Type: gosnmp.Null}}, 0, 1000)
	ans := a.Answer(b)
	if ans == nil || len(ans) > 1400 {
		t.Fatalf("answer of %d bytes for a limit of 1400", len(ans))
	}
	resp, err := decode(ans)
	if err != nil || len(resp.Variables) < 20 {
		t.Fatalf("bulk answer: %d bindings, %v", len(resp.Variables), err)
	}
}

func FuzzAgent(f *testing.F) {
	a := &Agent{MIB: func() ([]Var, error) { return fixedMIB(2), nil }}
	g := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: "public"}
	for _, pt := range []gosnmp.PDUType{gosnmp.GetRequest, gosnmp.GetNextRequest, gosnmp.GetBulkRequest, gosnmp.SetRequest} {
		b, _ := g.SnmpEncodePacket(pt, []gosnmp.SnmpPDU{{Name: ".1.3.6.1.2.1.1.5.0", Type: gosnmp.Null}}, 0, 5)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		ans := a.Answer(p)
		if ans == nil {
			return
		}
		if _, err := decode(ans); err != nil {
			t.Fatalf("the agent's answer does not decode: %v", err)
		}
	})
}

// TestNotifyV3ToOurReceiver: a v3 trap with authentication and privacy
// reaches a receiver that knows the user, and not one with another
// passphrase.
func TestNotifyV3ToOurReceiver(t *testing.T) {
	user := User{Name: "ops", Auth: "SHA-512", AuthPass: "authpass-123", Priv: "AES-256", PrivPass: "privpass-123"}
	got := make(chan Trap, 1)
	addr := startAgent(t, &TrapReceiver{Users: []User{user}, Handle: func(t Trap) { got <- t }})
	c, err := Dial(context.Background(), addr, Config{Version: V3, User: &user})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	coldStart, _ := Resolve("coldStart")
	if err := c.Notify(context.Background(), coldStart, 7, false); err != nil {
		t.Fatal(err)
	}
	select {
	case tr := <-got:
		if tr.Version != "3" || tr.User != "ops" || tr.Name != "SNMPv2-MIB::coldStart" || tr.Uptime != 7 {
			t.Fatalf("v3 trap: %+v", tr)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no v3 trap arrived")
	}
}

func FuzzResolve(f *testing.F) {
	for _, s := range []string{"sysName.0", "IF-MIB::ifDescr.2", ".1.3.6.1", "1.3.x", "ifTable", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := Resolve(s)
		if err != nil {
			return
		}
		back, err := ParseOID(o.String())
		if err != nil || back.Compare(o) != 0 {
			t.Fatalf("%q resolved to %v, which reads back as %v, %v", s, o, back, err)
		}
	})
}

func FuzzReadUsers(f *testing.F) {
	f.Add("ops SHA-256 \"auth pass 1\" AES privpass-1\n# comment\nreader\n")
	f.Fuzz(func(t *testing.T, s string) {
		users, err := ReadUsers(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, u := range users {
			if _, _, err := u.security(); err != nil {
				t.Fatalf("ReadUsers accepted %+v: %v", u, err)
			}
		}
	})
}

// BenchmarkAgentBulk answers GETBULK requests of 50 repetitions at spread
// positions of ifTable with 10,000 rows: one walk's worth of work a
// request, the MIB snapshot kept.
func BenchmarkAgentBulk(b *testing.B) {
	mib := fixedMIB(10000)
	a := &Agent{MIB: func() ([]Var, error) { return mib, nil }, MaxAge: time.Hour}
	g := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: "public"}
	var reqs [][]byte
	for i := 0; i < 10000; i += 997 {
		req, _ := g.SnmpEncodePacket(gosnmp.GetBulkRequest, []gosnmp.SnmpPDU{{Name: OID{1, 3, 6, 1, 2, 1, 2, 2, 1, 2, uint32(i)}.String(), Type: gosnmp.Null}}, 0, 50)
		reqs = append(reqs, req)
	}
	a.Answer(reqs[0])
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if a.Answer(reqs[i%len(reqs)]) == nil {
			b.Fatal("no answer")
		}
		i++
	}
}

// BenchmarkHostSnapshot builds the MIB of 10,000 interfaces, as the agent
// does at most once a MaxAge.
func BenchmarkHostSnapshot(b *testing.B) {
	rows := make([]Interface, 10000)
	for i := range rows {
		rows[i] = Interface{Index: i + 1, Name: "nk" + strconv.Itoa(i), Type: 6, MTU: 1500}
	}
	b.ReportAllocs()
	for b.Loop() {
		a := &Agent{MIB: func() ([]Var, error) { return InterfaceVars(rows), nil }}
		a.view()
	}
}

// TestParallelWalkThroughADelay walks an agent 10 ms of round trip away
// (netkit impair in between), where a parallel walk splits its parts:
// the same bindings, in the same order, in fewer round trips' time.
func TestParallelWalkThroughADelay(t *testing.T) {
	mib := fixedMIB(150) // 6,000 bindings and more
	addr := startAgent(t, &Agent{MIB: func() ([]Var, error) { return mib, nil }})
	pc := testutil.ListenPacket(t, "udp4").(*net.UDPConn)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	delay := impair.Faults{Delay: 5 * time.Millisecond}
	go (&impair.Proxy{To: addr, Up: delay, Down: delay}).Serve(ctx, pc)
	c, err := Dial(ctx, pc.LocalAddr().String(), Config{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	one, st1, err := c.WalkAll(ctx, OID{1}, WalkOptions{})
	if err != nil || len(one) != len(mib) {
		t.Fatalf("walk: %d bindings of %d, %v", len(one), len(mib), err)
	}
	for _, p := range []int{2, 8} {
		start := time.Now()
		par, st, err := c.WalkAll(ctx, OID{1}, WalkOptions{Parallel: p})
		if err != nil || len(par) != len(one) || st.Parts < 2 {
			t.Fatalf("walk with Parallel %d: %d bindings in %d parts, %v", p, len(par), st.Parts, err)
		}
		for i := range par {
			if par[i].OID.Compare(one[i].OID) != 0 || netsnmpText(par[i]) != netsnmpText(one[i]) {
				t.Fatalf("walk with Parallel %d: binding %d is %s, not %s", p, i, par[i], one[i])
			}
		}
		t.Logf("Parallel %d: %d parts, %d requests (one at a time: %d) in %v", p, st.Parts, st.Requests, st1.Requests, time.Since(start).Round(time.Millisecond))
	}
}

// TestAgentV3: net-snmp's snmpwalk and our client walk the agent as v3
// users, authPriv and authNoPriv; a wrong passphrase gets no answer.
func TestAgentV3(t *testing.T) {
	testutil.Program(t, "snmpwalk")
	mib := fixedMIB(2)
	priv := User{Name: "ops", Auth: "SHA-256", AuthPass: "authpass-123", Priv: "AES", PrivPass: "privpass-123"}
	auth := User{Name: "reader", Auth: "SHA", AuthPass: "readpass-123"}
	a := &Agent{MIB: func() ([]Var, error) { return mib, nil }, Users: []User{priv, auth}, EngineID: "0x80001f8880aabbccdd"}
	addr := startAgent(t, a)
	host, port, _ := net.SplitHostPort(addr)
	for _, args := range [][]string{
		{"-l", "authPriv", "-u", "ops", "-a", "SHA-256", "-A", priv.AuthPass, "-x", "AES", "-X", priv.PrivPass},
		{"-l", "authNoPriv", "-u", "reader", "-a", "SHA", "-A", auth.AuthPass},
	} {
		out, err := execEnv(testutil.Program(t, "snmpbulkwalk"), append(append([]string{"-v3", "-On", "-t", "2", "-r", "0"}, args...), "udp:"+host+":"+port, ".1.3.6.1.2.1.1")...)
		if err != nil || !strings.Contains(string(out), `.1.3.6.1.2.1.1.5.0 = STRING: "agent-1"`) {
			t.Fatalf("snmpbulkwalk %v: %v\n%s", args, err, out)
		}
		if n := strings.Count(string(out), "\n"); n != 7 {
			t.Errorf("snmpbulkwalk %v: %d lines, want the 7 of the system group:\n%s", args, n, out)
		}
	}
	// Our client, v3 authPriv, the same as v2c.
	c, err := Dial(context.Background(), addr, Config{Version: V3, User: &priv})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	vars, _, err := c.WalkAll(context.Background(), OID{1}, WalkOptions{})
	if err != nil || len(vars) != len(mib) {
		t.Fatalf("v3 walk: %d bindings of %d, %v", len(vars), len(mib), err)
	}
	// A wrong passphrase: nothing comes back.
	out, err := execEnv(testutil.Program(t, "snmpget"), "-v3", "-t", "0.5", "-r", "0", "-l", "authPriv", "-u", "ops", "-a", "SHA-256", "-A", "wrong-pass-1", "-x", "AES", "-X", priv.PrivPass, "udp:"+host+":"+port, ".1.3.6.1.2.1.1.5.0")
	if err == nil || strings.Contains(string(out), "agent-1") {
		t.Fatalf("a wrong passphrase was answered: %s", out)
	}
	if st := a.Stats(); st.BadCommunity == 0 {
		t.Errorf("the wrong passphrase was not counted: %+v", st)
	}
}

// TestParallelWalkCancelled: a walk whose context ends returns at once
// with the context's error, parts still queued or not.
func TestParallelWalkCancelled(t *testing.T) {
	mib := fixedMIB(150)
	addr := startAgent(t, &Agent{MIB: func() ([]Var, error) { return mib, nil }})
	pc := testutil.ListenPacket(t, "udp4").(*net.UDPConn)
	pctx, stop := context.WithCancel(context.Background())
	defer stop()
	delay := impair.Faults{Delay: 20 * time.Millisecond}
	go (&impair.Proxy{To: addr, Up: delay, Down: delay}).Serve(pctx, pc)
	c, err := Dial(pctx, pc.LocalAddr().String(), Config{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err = c.WalkAll(ctx, OID{1}, WalkOptions{Parallel: 2, Ceiling: 64})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("cancelled walk: %v after %v", err, time.Since(start))
	}
}

func FuzzParseValue(f *testing.F) {
	for _, s := range [][2]string{{"i", "-5"}, {"u", "7"}, {"C", "18446744073709551615"}, {"a", "192.0.2.1"}, {"o", "sysName.0"}, {"s", "text"}, {"x", "0a:1b"}, {"t", "100"}, {"n", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, letter, text string) {
		v, err := ParseValue(OID{1, 3, 6, 1, 2, 1, 1, 5, 0}, letter, text)
		if err != nil {
			return
		}
		// What parses, gosnmp can encode, and it reads back the same.
		g := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Community: "public"}
		b, err := g.SnmpEncodePacket(gosnmp.SetRequest, []gosnmp.SnmpPDU{v.pdu()}, 0, 0)
		if err != nil {
			t.Fatalf("ParseValue(%q, %q) = %+v, which does not encode: %v", letter, text, v, err)
		}
		pkt, err := decode(b)
		if err != nil || len(pkt.Variables) != 1 {
			t.Fatalf("ParseValue(%q, %q): the encoded request does not decode: %v", letter, text, err)
		}
		back, err := fromPDU(pkt.Variables[0])
		if err != nil || back.Type != v.Type || back.Text() != v.Text() {
			t.Fatalf("ParseValue(%q, %q) = %s, read back as %s (%v)", letter, text, v, back, err)
		}
	})
}
