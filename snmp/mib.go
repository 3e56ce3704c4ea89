package snmp

import (
	"fmt"
	"strings"
	"sync"
)

// The names netkit knows without MIB files: MIB-II (RFC 1213) and its
// successors SNMPv2-MIB, IP-MIB, TCP-MIB and UDP-MIB, IF-MIB (RFC 2863)
// with ifXTable, and the standard notifications. Each line is a module, a
// name and its OID.
const builtinMIB = `
SNMPv2-SMI iso 1
SNMPv2-SMI org 1.3
SNMPv2-SMI dod 1.3.6
SNMPv2-SMI internet 1.3.6.1
SNMPv2-SMI mgmt 1.3.6.1.2
SNMPv2-SMI mib-2 1.3.6.1.2.1
SNMPv2-SMI private 1.3.6.1.4
SNMPv2-SMI enterprises 1.3.6.1.4.1
SNMPv2-SMI snmpV2 1.3.6.1.6
SNMPv2-MIB system 1.3.6.1.2.1.1
SNMPv2-MIB sysDescr 1.3.6.1.2.1.1.1
SNMPv2-MIB sysObjectID 1.3.6.1.2.1.1.2
DISMAN-EVENT-MIB sysUpTimeInstance 1.3.6.1.2.1.1.3.0
SNMPv2-MIB sysUpTime 1.3.6.1.2.1.1.3
SNMPv2-MIB sysContact 1.3.6.1.2.1.1.4
SNMPv2-MIB sysName 1.3.6.1.2.1.1.5
SNMPv2-MIB sysLocation 1.3.6.1.2.1.1.6
SNMPv2-MIB sysServices 1.3.6.1.2.1.1.7
SNMPv2-MIB sysORLastChange 1.3.6.1.2.1.1.8
SNMPv2-MIB sysORTable 1.3.6.1.2.1.1.9
SNMPv2-MIB sysOREntry 1.3.6.1.2.1.1.9.1
SNMPv2-MIB sysORIndex 1.3.6.1.2.1.1.9.1.1
SNMPv2-MIB sysORID 1.3.6.1.2.1.1.9.1.2
SNMPv2-MIB sysORDescr 1.3.6.1.2.1.1.9.1.3
SNMPv2-MIB sysORUpTime 1.3.6.1.2.1.1.9.1.4
IF-MIB interfaces 1.3.6.1.2.1.2
IF-MIB ifNumber 1.3.6.1.2.1.2.1
IF-MIB ifTable 1.3.6.1.2.1.2.2
IF-MIB ifEntry 1.3.6.1.2.1.2.2.1
IF-MIB ifIndex 1.3.6.1.2.1.2.2.1.1
IF-MIB ifDescr 1.3.6.1.2.1.2.2.1.2
IF-MIB ifType 1.3.6.1.2.1.2.2.1.3
IF-MIB ifMtu 1.3.6.1.2.1.2.2.1.4
IF-MIB ifSpeed 1.3.6.1.2.1.2.2.1.5
IF-MIB ifPhysAddress 1.3.6.1.2.1.2.2.1.6
IF-MIB ifAdminStatus 1.3.6.1.2.1.2.2.1.7
IF-MIB ifOperStatus 1.3.6.1.2.1.2.2.1.8
IF-MIB ifLastChange 1.3.6.1.2.1.2.2.1.9
IF-MIB ifInOctets 1.3.6.1.2.1.2.2.1.10
IF-MIB ifInUcastPkts 1.3.6.1.2.1.2.2.1.11
IF-MIB ifInNUcastPkts 1.3.6.1.2.1.2.2.1.12
IF-MIB ifInDiscards 1.3.6.1.2.1.2.2.1.13
IF-MIB ifInErrors 1.3.6.1.2.1.2.2.1.14
IF-MIB ifInUnknownProtos 1.3.6.1.2.1.2.2.1.15
IF-MIB ifOutOctets 1.3.6.1.2.1.2.2.1.16
IF-MIB ifOutUcastPkts 1.3.6.1.2.1.2.2.1.17
IF-MIB ifOutNUcastPkts 1.3.6.1.2.1.2.2.1.18
IF-MIB ifOutDiscards 1.3.6.1.2.1.2.2.1.19
IF-MIB ifOutErrors 1.3.6.1.2.1.2.2.1.20
IF-MIB ifOutQLen 1.3.6.1.2.1.2.2.1.21
IF-MIB ifSpecific 1.3.6.1.2.1.2.2.1.22
IP-MIB ip 1.3.6.1.2.1.4
IP-MIB ipForwarding 1.3.6.1.2.1.4.1
IP-MIB ipDefaultTTL 1.3.6.1.2.1.4.2
IP-MIB ipInReceives 1.3.6.1.2.1.4.3
IP-MIB ipInHdrErrors 1.3.6.1.2.1.4.4
IP-MIB ipInAddrErrors 1.3.6.1.2.1.4.5
IP-MIB ipForwDatagrams 1.3.6.1.2.1.4.6
IP-MIB ipInUnknownProtos 1.3.6.1.2.1.4.7
IP-MIB ipInDiscards 1.3.6.1.2.1.4.8
IP-MIB ipInDelivers 1.3.6.1.2.1.4.9
IP-MIB ipOutRequests 1.3.6.1.2.1.4.10
IP-MIB ipOutDiscards 1.3.6.1.2.1.4.11
IP-MIB ipOutNoRoutes 1.3.6.1.2.1.4.12
IP-MIB ipReasmTimeout 1.3.6.1.2.1.4.13
IP-MIB ipReasmReqds 1.3.6.1.2.1.4.14
IP-MIB ipReasmOKs 1.3.6.1.2.1.4.15
IP-MIB ipReasmFails 1.3.6.1.2.1.4.16
IP-MIB ipFragOKs 1.3.6.1.2.1.4.17
IP-MIB ipFragFails 1.3.6.1.2.1.4.18
IP-MIB ipFragCreates 1.3.6.1.2.1.4.19
IP-MIB ipAddrTable 1.3.6.1.2.1.4.20
IP-MIB ipAddrEntry 1.3.6.1.2.1.4.20.1
IP-MIB ipAdEntAddr 1.3.6.1.2.1.4.20.1.1
IP-MIB ipAdEntIfIndex 1.3.6.1.2.1.4.20.1.2
IP-MIB ipAdEntNetMask 1.3.6.1.2.1.4.20.1.3
IP-MIB ipAdEntBcastAddr 1.3.6.1.2.1.4.20.1.4
IP-MIB ipAdEntReasmMaxSize 1.3.6.1.2.1.4.20.1.5
RFC1213-MIB ipRouteTable 1.3.6.1.2.1.4.21
IP-MIB ipNetToMediaTable 1.3.6.1.2.1.4.22
IP-MIB ipNetToMediaEntry 1.3.6.1.2.1.4.22.1
IP-MIB ipNetToMediaIfIndex 1.3.6.1.2.1.4.22.1.1
IP-MIB ipNetToMediaPhysAddress 1.3.6.1.2.1.4.22.1.2
IP-MIB ipNetToMediaNetAddress 1.3.6.1.2.1.4.22.1.3
IP-MIB ipNetToMediaType 1.3.6.1.2.1.4.22.1.4
IP-MIB ipRoutingDiscards 1.3.6.1.2.1.4.23
IP-MIB icmp 1.3.6.1.2.1.5
TCP-MIB tcp 1.3.6.1.2.1.6
TCP-MIB tcpRtoAlgorithm 1.3.6.1.2.1.6.1
TCP-MIB tcpRtoMin 1.3.6.1.2.1.6.2
TCP-MIB tcpRtoMax 1.3.6.1.2.1.6.3
TCP-MIB tcpMaxConn 1.3.6.1.2.1.6.4
TCP-MIB tcpActiveOpens 1.3.6.1.2.1.6.5
TCP-MIB tcpPassiveOpens 1.3.6.1.2.1.6.6
TCP-MIB tcpAttemptFails 1.3.6.1.2.1.6.7
TCP-MIB tcpEstabResets 1.3.6.1.2.1.6.8
TCP-MIB tcpCurrEstab 1.3.6.1.2.1.6.9
TCP-MIB tcpInSegs 1.3.6.1.2.1.6.10
TCP-MIB tcpOutSegs 1.3.6.1.2.1.6.11
TCP-MIB tcpRetransSegs 1.3.6.1.2.1.6.12
TCP-MIB tcpConnTable 1.3.6.1.2.1.6.13
TCP-MIB tcpConnEntry 1.3.6.1.2.1.6.13.1
TCP-MIB tcpConnState 1.3.6.1.2.1.6.13.1.1
TCP-MIB tcpConnLocalAddress 1.3.6.1.2.1.6.13.1.2
TCP-MIB tcpConnLocalPort 1.3.6.1.2.1.6.13.1.3
TCP-MIB tcpConnRemAddress 1.3.6.1.2.1.6.13.1.4
TCP-MIB tcpConnRemPort 1.3.6.1.2.1.6.13.1.5
TCP-MIB tcpInErrs 1.3.6.1.2.1.6.14
TCP-MIB tcpOutRsts 1.3.6.1.2.1.6.15
UDP-MIB udp 1.3.6.1.2.1.7
UDP-MIB udpInDatagrams 1.3.6.1.2.1.7.1
UDP-MIB udpNoPorts 1.3.6.1.2.1.7.2
UDP-MIB udpInErrors 1.3.6.1.2.1.7.3
UDP-MIB udpOutDatagrams 1.3.6.1.2.1.7.4
UDP-MIB udpTable 1.3.6.1.2.1.7.5
UDP-MIB udpEntry 1.3.6.1.2.1.7.5.1
UDP-MIB udpLocalAddress 1.3.6.1.2.1.7.5.1.1
UDP-MIB udpLocalPort 1.3.6.1.2.1.7.5.1.2
SNMPv2-MIB snmp 1.3.6.1.2.1.11
IF-MIB ifMIB 1.3.6.1.2.1.31
IF-MIB ifMIBObjects 1.3.6.1.2.1.31.1
IF-MIB ifXTable 1.3.6.1.2.1.31.1.1
IF-MIB ifXEntry 1.3.6.1.2.1.31.1.1.1
IF-MIB ifName 1.3.6.1.2.1.31.1.1.1.1
IF-MIB ifInMulticastPkts 1.3.6.1.2.1.31.1.1.1.2
IF-MIB ifInBroadcastPkts 1.3.6.1.2.1.31.1.1.1.3
IF-MIB ifOutMulticastPkts 1.3.6.1.2.1.31.1.1.1.4
IF-MIB ifOutBroadcastPkts 1.3.6.1.2.1.31.1.1.1.5
IF-MIB ifHCInOctets 1.3.6.1.2.1.31.1.1.1.6
IF-MIB ifHCInUcastPkts 1.3.6.1.2.1.31.1.1.1.7
IF-MIB ifHCInMulticastPkts 1.3.6.1.2.1.31.1.1.1.8
IF-MIB ifHCInBroadcastPkts 1.3.6.1.2.1.31.1.1.1.9
IF-MIB ifHCOutOctets 1.3.6.1.2.1.31.1.1.1.10
IF-MIB ifHCOutUcastPkts 1.3.6.1.2.1.31.1.1.1.11
IF-MIB ifHCOutMulticastPkts 1.3.6.1.2.1.31.1.1.1.12
IF-MIB ifHCOutBroadcastPkts 1.3.6.1.2.1.31.1.1.1.13
IF-MIB ifLinkUpDownTrapEnable 1.3.6.1.2.1.31.1.1.1.14
IF-MIB ifHighSpeed 1.3.6.1.2.1.31.1.1.1.15
IF-MIB ifPromiscuousMode 1.3.6.1.2.1.31.1.1.1.16
IF-MIB ifConnectorPresent 1.3.6.1.2.1.31.1.1.1.17
IF-MIB ifAlias 1.3.6.1.2.1.31.1.1.1.18
IF-MIB ifCounterDiscontinuityTime 1.3.6.1.2.1.31.1.1.1.19
SNMPv2-MIB snmpTrapOID 1.3.6.1.6.3.1.1.4.1
SNMPv2-MIB snmpTrapEnterprise 1.3.6.1.6.3.1.1.4.3
SNMPv2-MIB coldStart 1.3.6.1.6.3.1.1.5.1
SNMPv2-MIB warmStart 1.3.6.1.6.3.1.1.5.2
IF-MIB linkDown 1.3.6.1.6.3.1.1.5.3
IF-MIB linkUp 1.3.6.1.6.3.1.1.5.4
SNMPv2-MIB authenticationFailure 1.3.6.1.6.3.1.1.5.5
`

type mibEntry struct {
	module, name string
	oid          OID
}

var mib struct {
	once   sync.Once
	byName map[string]mibEntry // lower-case name
	tree   mibNode             // by OID, part by part
}

// mibNode is a node of the OID tree: the name at it, if any.
type mibNode struct {
	entry    *mibEntry
	children map[uint32]*mibNode
}

func loadMIB() {
	mib.byName = map[string]mibEntry{}
	for line := range strings.Lines(builtinMIB) {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		o, err := ParseOID(f[2])
		if err != nil {
			panic("snmp: builtin MIB: " + err.Error())
		}
		e := mibEntry{f[0], f[1], o}
		mib.byName[strings.ToLower(f[1])] = e
		n := &mib.tree
		for _, p := range o {
			if n.children == nil {
				n.children = map[uint32]*mibNode{}
			}
			if n.children[p] == nil {
				n.children[p] = &mibNode{}
			}
			n = n.children[p]
		}
		if n.entry == nil {
			n.entry = &e
		}
	}
}

// Resolve reads an OID given by number (1.3.6.1.2.1.2.2, with or without
// the leading dot) or by name, with or without its module and with an
// index after it: ifTable, IF-MIB::ifDescr.2, sysName.0. Names are those
// of MIB-II, IF-MIB (ifXTable included) and the standard notifications.
func Resolve(s string) (OID, error) {
	if s == "" {
		return nil, &InputError{Input: s, Rule: "give an OID or a name, as sysName.0 or 1.3.6.1.2.1.1.5.0"}
	}
	if c := s[0]; c == '.' || c >= '0' && c <= '9' {
		return ParseOID(s)
	}
	mib.once.Do(loadMIB)
	name := s
	if _, n, ok := strings.Cut(s, "::"); ok {
		name = n
	}
	name, index, _ := strings.Cut(name, ".")
	e, ok := mib.byName[strings.ToLower(name)]
	if !ok {
		return nil, &InputError{Input: s, Rule: fmt.Sprintf("%q is not a name netkit knows (MIB-II and IF-MIB are built in); give the OID by number", name)}
	}
	if index == "" {
		return e.oid.Append(), nil
	}
	rest, err := parseParts(index)
	if err != nil {
		return nil, &InputError{Input: s, Rule: fmt.Sprintf("the index after %s is not numbers separated by dots", name)}
	}
	return e.oid.Append(rest...), nil
}

// Name writes an OID with the longest name that netkit knows for its
// start, as net-snmp does: .1.3.6.1.2.1.2.2.1.2.1 is IF-MIB::ifDescr.1.
// An OID outside the names known stays numeric.
func Name(o OID) string {
	mib.once.Do(loadMIB)
	var best *mibEntry
	depth := 0
	n := &mib.tree
	for i, p := range o {
		if n = n.children[p]; n == nil {
			break
		}
		if n.entry != nil {
			best, depth = n.entry, i+1
		}
	}
	if best == nil || best.module == "SNMPv2-SMI" && depth < len(o) && best.name != "enterprises" {
		return o.String() // iso.3.6... reads worse than the number
	}
	s := best.module + "::" + best.name
	if depth < len(o) {
		s += o[depth:].String()
	}
	return s
}
