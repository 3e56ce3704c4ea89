// Package snmp is netkit's SNMP (RFC 3416) manager, trap receiver and
// small agent, for v1, v2c and v3 (RFC 3414 USM, SHA-2 and AES), on
// github.com/gosnmp/gosnmp's message codec.
//
// A [Client] asks one agent: [Client.Get], [Client.GetNext],
// [Client.GetBulk], [Client.Set], and [Client.Walk], which uses GETBULK
// with max-repetitions that size themselves, walks parts of the tree in
// parallel on a slow path ([WalkOptions].Parallel), and stops with
// [ErrNotIncreasing] on an agent that would make it loop. [Client.ReadTable]
// arranges a walk as rows and columns, with counter rates
// ([Table.SetRates]). [Client.Notify] sends traps and informs;
// [TrapReceiver] takes them. [Agent] answers GET, GETNEXT and GETBULK from a
// MIB snapshot, such as [HostMIB]: the system group and IF-MIB for this
// host's interfaces. Both are server.PacketHandlers.
//
// Names of MIB-II and IF-MIB are built in ([Resolve], [Name]): no MIB files
// are read. Numeric OIDs always work.
package snmp
