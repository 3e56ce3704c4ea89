package tour

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/server"
	"github.com/netkit-dev/netkit/snmp"
)

// snmpStep: managing devices. An agent answers questions about a tree of
// values (the MIB); the interface table is the one every router has.
type snmpStep struct{}

func (snmpStep) Name() string  { return "snmp" }
func (snmpStep) Layer() string { return "application" }
func (snmpStep) Idea() string {
	return "SNMP manages devices: an agent serves a tree of numbered values (the MIB), and a manager reads it with GET, GETNEXT and GETBULK over UDP"
}
func (snmpStep) Commands() []string {
	return []string{
		"netkit snmp serve 127.0.0.1:12345 -c tour --location 'the tour' &",
		"netkit snmp walk -c tour 127.0.0.1:12345 system",
		"netkit snmp table -c tour 127.0.0.1:12345 ifTable --columns ifDescr,ifType,ifMtu,ifOperStatus,ifInOctets",
	}
}
func (snmpStep) Files() map[string]string { return nil }

func (snmpStep) Run(ctx context.Context, w io.Writer, e *Env) error {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	agent := &snmp.Agent{Community: "tour", MIB: snmp.HostMIB(snmp.System{Location: "the tour"})}
	ps := &server.PacketServer{Handler: agent}
	go ps.Serve(ctx, pc)
	defer ps.Shutdown(context.Background())

	c, err := snmp.Dial(ctx, pc.LocalAddr().String(), snmp.Config{Community: "tour"})
	if err != nil {
		return err
	}
	defer c.Close()
	say(w, "netkit's agent listens on udp://%s. Every value has an OID, a path in one tree: sysName.0 is %s.", pc.LocalAddr(), mustResolve("sysName.0"))
	vars, err := c.Get(ctx, mustResolve("sysName.0"), mustResolve("sysLocation.0"), mustResolve("sysUpTime.0"))
	if err != nil {
		return err
	}
	say(w, "A GetRequest names the OIDs; the GetResponse brings each with its type:")
	for _, v := range vars {
		fmt.Fprintf(w, "  %s\n", v)
	}
	ifTable := mustResolve("ifTable")
	t, st, err := c.ReadTable(ctx, ifTable, snmp.WalkOptions{})
	if err != nil {
		return err
	}
	say(w, "A walk asks for what comes after, again and again. GETBULK asks for many at once: the %d values of ifTable (%s) came in %d requests, max-repetitions growing to %d.",
		st.Vars, ifTable, st.Requests, st.MaxRepetitions)
	if err := t.Select("ifDescr", "ifType", "ifMtu", "ifOperStatus", "ifInOctets"); err != nil {
		return err
	}
	tb := textui.NewTable(" INDEX", "ifDescr", "ifType", "ifMtu", "ifOperStatus", "ifInOctets")
	for _, r := range t.Rows {
		row := []string{" " + strings.TrimPrefix(r.Index.String(), ".")}
		for _, col := range t.Columns {
			row = append(row, r.Cells[col.Sub].Text())
		}
		tb.Add(row...)
	}
	if err := tb.Write(w, e.Style); err != nil {
		return err
	}
	say(w, "ifType 24 is a software loopback, 6 an Ethernet; ifOperStatus 1 is up. ifInOctets is a Counter32: it wraps at 4 GiB, which is why ifXTable has 64-bit ifHCInOctets.")
	if a := agent.Stats(); a.Answers == 0 {
		return fmt.Errorf("the agent answered nothing")
	}
	return nil
}

func mustResolve(name string) snmp.OID {
	o, err := snmp.Resolve(name)
	if err != nil {
		panic(err)
	}
	return o
}
