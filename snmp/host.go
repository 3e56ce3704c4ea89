package snmp

import (
	"math"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/netif"
)

// System is what the system group (SNMPv2-MIB) says of a host.
type System struct {
	Descr    string // sysDescr; "netkit on GOOS/GOARCH" if empty
	Contact  string // sysContact
	Name     string // sysName; the host name if empty
	Location string // sysLocation
	// ObjectID is sysObjectID, the kind of device; zeroDotZero (0.0) if
	// nil, for netkit has no enterprise number of its own.
	ObjectID OID
	// Start is when the agent started, for sysUpTime; now if zero.
	Start time.Time
}

// OIDs of the groups the host MIB serves.
var (
	oidSystem  = OID{1, 3, 6, 1, 2, 1, 1}
	oidIfNum   = OID{1, 3, 6, 1, 2, 1, 2, 1, 0}
	oidIfEntry = OID{1, 3, 6, 1, 2, 1, 2, 2, 1}
	oidIfX     = OID{1, 3, 6, 1, 2, 1, 31, 1, 1, 1}
)

// HostMIB returns a MIB for Agent: the system group and IF-MIB's ifTable
// and ifXTable for the host's own interfaces (package netif) and their
// counters (one netlink dump: netif.Links), read anew on each call.
func HostMIB(sys System) func() ([]Var, error) {
	if sys.Start.IsZero() {
		sys.Start = time.Now()
	}
	if sys.Name == "" {
		sys.Name, _ = os.Hostname()
	}
	if sys.Descr == "" {
		sys.Descr = "netkit on " + runtime.GOOS + "/" + runtime.GOARCH
	}
	if sys.ObjectID == nil {
		sys.ObjectID = OID{0, 0}
	}
	return func() ([]Var, error) {
		links, err := netif.Links()
		if err != nil {
			return nil, err
		}
		rows := make([]Interface, len(links))
		for i, l := range links {
			rows[i] = InterfaceOf(l.Interface, l.Counters)
		}
		up := uint32(time.Since(sys.Start) / (10 * time.Millisecond))
		vars := SystemVars(sys, up)
		return append(vars, InterfaceVars(rows)...), nil
	}
}

// SystemVars are the system group's bindings; up is sysUpTime in
// hundredths of a second.
func SystemVars(sys System, up uint32) []Var {
	s := func(sub uint32, t Type, v any) Var { return Var{OID: oidSystem.Append(sub, 0), Type: t, Value: v} }
	return []Var{
		s(1, OctetString, []byte(sys.Descr)),
		s(2, ObjectIdentifier, sys.ObjectID),
		s(3, TimeTicks, up),
		s(4, OctetString, []byte(sys.Contact)),
		s(5, OctetString, []byte(sys.Name)),
		s(6, OctetString, []byte(sys.Location)),
		s(7, Integer, int64(72)), // applications and end-to-end: a host
	}
}

// Interface is one row of ifTable and ifXTable.
type Interface struct {
	Index       int
	Name        string
	Type        int64 // IANAifType: 6 ethernetCsmacd, 24 softwareLoopback, 1 other
	MTU         int
	SpeedMbps   uint64
	MAC         net.HardwareAddr
	AdminUp     bool
	OperStatus  int64 // 1 up, 2 down, 3 testing, 4 unknown, 5 dormant, 6 notPresent, 7 lowerLayerDown
	Promiscuous bool
	Alias       string
	Counters    netif.Counters
}

// InterfaceOf makes a row from what netif says of an interface.
func InterfaceOf(it netif.Interface, c netif.Counters) Interface {
	r := Interface{Index: it.Index, Name: it.Name, MTU: it.MTU, SpeedMbps: c.SpeedMbps, MAC: it.HardwareAddr,
		AdminUp: it.Flags&net.FlagUp != 0, Alias: c.Alias, Promiscuous: c.Promiscuous, Counters: c, Type: 1}
	switch {
	case it.Flags&net.FlagLoopback != 0:
		r.Type = 24
	case len(it.HardwareAddr) == 6:
		r.Type = 6
	}
	switch it.OperState {
	case "up":
		r.OperStatus = 1
	case "down":
		r.OperStatus = 2
	case "testing":
		r.OperStatus = 3
	case "dormant":
		r.OperStatus = 5
	case "notpresent":
		r.OperStatus = 6
	case "lowerlayerdown":
		r.OperStatus = 7
	default: // "unknown", as loopback says: up if it runs, as net-snmp reports
		r.OperStatus = 4
		if it.Flags&net.FlagRunning != 0 {
			r.OperStatus = 1
		}
	}
	return r
}

// InterfaceVars are ifNumber and the ifTable and ifXTable bindings of
// rows.
func InterfaceVars(rows []Interface) []Var {
	vars := make([]Var, 0, 1+len(rows)*41)
	vars = append(vars, Var{OID: oidIfNum, Type: Integer, Value: int64(len(rows))})
	for _, r := range rows {
		i := uint32(r.Index)
		e := func(col uint32, t Type, v any) {
			vars = append(vars, Var{OID: oidIfEntry.Append(col, i), Type: t, Value: v})
		}
		x := func(col uint32, t Type, v any) {
			vars = append(vars, Var{OID: oidIfX.Append(col, i), Type: t, Value: v})
		}
		c := r.Counters
		c32 := func(n uint64) uint32 { return uint32(n) } // Counter32 wraps
		status := func(up bool) int64 {
			if up {
				return 1
			}
			return 2
		}
		speed := min(r.SpeedMbps*1_000_000, 1<<32-1)
		ucastIn := c.RxPackets - min(c.Multicast, c.RxPackets)
		e(1, Integer, int64(r.Index))
		e(2, OctetString, []byte(r.Name))
		e(3, Integer, r.Type)
		e(4, Integer, int64(r.MTU))
		e(5, Gauge32, uint32(speed))
		e(6, OctetString, []byte(r.MAC))
		e(7, Integer, status(r.AdminUp))
		e(8, Integer, r.OperStatus)
		e(9, TimeTicks, uint32(0))
		e(10, Counter32, c32(c.RxBytes))
		e(11, Counter32, c32(ucastIn))
		e(12, Counter32, c32(c.Multicast))
		e(13, Counter32, c32(c.RxDropped))
		e(14, Counter32, c32(c.RxErrors))
		e(15, Counter32, uint32(0))
		e(16, Counter32, c32(c.TxBytes))
		e(17, Counter32, c32(c.TxPackets))
		e(18, Counter32, uint32(0))
		e(19, Counter32, c32(c.TxDropped))
		e(20, Counter32, c32(c.TxErrors))
		e(21, Gauge32, uint32(0))
		e(22, ObjectIdentifier, OID{0, 0})
		x(1, OctetString, []byte(r.Name))
		x(2, Counter32, c32(c.Multicast))
		x(3, Counter32, uint32(0))
		x(4, Counter32, uint32(0))
		x(5, Counter32, uint32(0))
		x(6, Counter64, c.RxBytes)
		x(7, Counter64, ucastIn)
		x(8, Counter64, c.Multicast)
		x(9, Counter64, uint64(0))
		x(10, Counter64, c.TxBytes)
		x(11, Counter64, c.TxPackets)
		x(12, Counter64, uint64(0))
		x(13, Counter64, uint64(0))
		x(14, Integer, int64(2)) // linkUpDown traps disabled: the agent sends none
		x(15, Gauge32, uint32(min(r.SpeedMbps, 1<<32-1)))
		x(16, Integer, status(r.Promiscuous))
		x(17, Integer, status(r.Type == 6))
		x(18, OctetString, []byte(r.Alias))
		x(19, TimeTicks, uint32(0))
	}
	return vars
}

// HostUptime is how long this host has been up, in hundredths of a
// second (sysUpTime's unit), from /proc/uptime; 0 where that is missing.
func HostUptime() uint32 {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	s, err := strconv.ParseFloat(f[0], 64)
	if err != nil || s < 0 {
		return 0
	}
	return uint32(min(s*100, math.MaxUint32))
}
