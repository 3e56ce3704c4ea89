package snmp_test

import (
	"context"
	"fmt"
	"net"

	"github.com/netkit-dev/netkit/server"
	"github.com/netkit-dev/netkit/snmp"
)

// Serve a small MIB with the agent on a loopback port, then read it back
// with the client: a GET and a walk of the system group.
func Example() {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	mib := snmp.SystemVars(snmp.System{Descr: "an example", Name: "agent-1", Location: "rack 7", ObjectID: snmp.OID{1, 3, 6, 1, 4, 1, 99999}}, 4242)
	agent := &snmp.Agent{Community: "s3cret", MIB: func() ([]snmp.Var, error) { return mib, nil }}
	srv := &server.PacketServer{Handler: agent}
	go srv.Serve(context.Background(), pc)
	defer srv.Shutdown(context.Background())

	ctx := context.Background()
	c, err := snmp.Dial(ctx, pc.LocalAddr().String(), snmp.Config{Community: "s3cret"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	name, _ := snmp.Resolve("sysName.0")
	vars, err := c.Get(ctx, name)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(vars[0])
	system, _ := snmp.Resolve("system")
	_, err = c.Walk(ctx, system, snmp.WalkOptions{}, func(v snmp.Var) error {
		fmt.Println(v)
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// SNMPv2-MIB::sysName.0 = STRING: agent-1
	// SNMPv2-MIB::sysDescr.0 = STRING: an example
	// SNMPv2-MIB::sysObjectID.0 = OID: SNMPv2-SMI::enterprises.99999
	// DISMAN-EVENT-MIB::sysUpTimeInstance = Timeticks: (4242) 0:00:42.42
	// SNMPv2-MIB::sysContact.0 = ""
	// SNMPv2-MIB::sysName.0 = STRING: agent-1
	// SNMPv2-MIB::sysLocation.0 = STRING: rack 7
	// SNMPv2-MIB::sysServices.0 = INTEGER: 72
}
