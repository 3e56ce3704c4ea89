package snmp

import (
	"math"
	"net"
	"os"
	"runtime"
	"slices"
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
		return appendInterfaceVars(SystemVars(sys, up), rows), nil
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
// rows, in OID order when rows are in index order.
func InterfaceVars(rows []Interface) []Var { return appendInterfaceVars(nil, rows) }

// column is one column of ifTable or ifXTable: its value for a row.
type column func(r *Interface) (Type, any)

func status(up bool) int64 {
	if up {
		return 1
	}
	return 2
}

func ucastIn(r *Interface) uint64 {
	return r.Counters.RxPackets - min(r.Counters.Multicast, r.Counters.RxPackets)
}

// c32 is a counter as a Counter32, which wraps.
func c32(n uint64) (Type, any) { return Counter32, uint32(n) }
func c64(n uint64) (Type, any) { return Counter64, n }

var zero32 = func(*Interface) (Type, any) { return Counter32, uint32(0) }
var zero64 = func(*Interface) (Type, any) { return Counter64, uint64(0) }

// ifEntryColumns are ifTable's columns 1 to 22 (RFC 2863).
var ifEntryColumns = []column{
	func(r *Interface) (Type, any) { return Integer, int64(r.Index) },
	func(r *Interface) (Type, any) { return OctetString, []byte(r.Name) },
	func(r *Interface) (Type, any) { return Integer, r.Type },
	func(r *Interface) (Type, any) { return Integer, int64(r.MTU) },
	func(r *Interface) (Type, any) { return Gauge32, uint32(min(r.SpeedMbps*1_000_000, 1<<32-1)) },
	func(r *Interface) (Type, any) { return OctetString, []byte(r.MAC) },
	func(r *Interface) (Type, any) { return Integer, status(r.AdminUp) },
	func(r *Interface) (Type, any) { return Integer, r.OperStatus },
	func(r *Interface) (Type, any) { return TimeTicks, uint32(0) }, // ifLastChange
	func(r *Interface) (Type, any) { return c32(r.Counters.RxBytes) },
	func(r *Interface) (Type, any) { return c32(ucastIn(r)) },
	func(r *Interface) (Type, any) { return c32(r.Counters.Multicast) },
	func(r *Interface) (Type, any) { return c32(r.Counters.RxDropped) },
	func(r *Interface) (Type, any) { return c32(r.Counters.RxErrors) },
	zero32, // ifInUnknownProtos
	func(r *Interface) (Type, any) { return c32(r.Counters.TxBytes) },
	func(r *Interface) (Type, any) { return c32(r.Counters.TxPackets) },
	zero32, // ifOutNUcastPkts
	func(r *Interface) (Type, any) { return c32(r.Counters.TxDropped) },
	func(r *Interface) (Type, any) { return c32(r.Counters.TxErrors) },
	func(r *Interface) (Type, any) { return Gauge32, uint32(0) }, // ifOutQLen
	func(r *Interface) (Type, any) { return ObjectIdentifier, OID{0, 0} },
}

// ifXColumns are ifXTable's columns 1 to 19.
var ifXColumns = []column{
	func(r *Interface) (Type, any) { return OctetString, []byte(r.Name) },
	func(r *Interface) (Type, any) { return c32(r.Counters.Multicast) },
	zero32, zero32, zero32, // broadcasts in, multicasts and broadcasts out: not counted
	func(r *Interface) (Type, any) { return c64(r.Counters.RxBytes) },
	func(r *Interface) (Type, any) { return c64(ucastIn(r)) },
	func(r *Interface) (Type, any) { return c64(r.Counters.Multicast) },
	zero64,
	func(r *Interface) (Type, any) { return c64(r.Counters.TxBytes) },
	func(r *Interface) (Type, any) { return c64(r.Counters.TxPackets) },
	zero64, zero64,
	func(r *Interface) (Type, any) { return Integer, int64(2) }, // linkUpDown traps: the agent sends none
	func(r *Interface) (Type, any) { return Gauge32, uint32(min(r.SpeedMbps, 1<<32-1)) },
	func(r *Interface) (Type, any) { return Integer, status(r.Promiscuous) },
	func(r *Interface) (Type, any) { return Integer, status(r.Type == 6) },
	func(r *Interface) (Type, any) { return OctetString, []byte(r.Alias) },
	func(r *Interface) (Type, any) { return TimeTicks, uint32(0) }, // ifCounterDiscontinuityTime
}

func appendInterfaceVars(vars []Var, rows []Interface) []Var {
	vars = slices.Grow(vars, 1+len(rows)*(len(ifEntryColumns)+len(ifXColumns)))
	vars = append(vars, Var{OID: oidIfNum, Type: Integer, Value: int64(len(rows))})
	// One backing array for every OID, column by column, so that the
	// bindings come out in OID order.
	parts := make([]uint32, 0, len(rows)*(len(ifEntryColumns)*(len(oidIfEntry)+2)+len(ifXColumns)*(len(oidIfX)+2)))
	for _, table := range []struct {
		entry OID
		cols  []column
	}{{oidIfEntry, ifEntryColumns}, {oidIfX, ifXColumns}} {
		for i, col := range table.cols {
			for r := range rows {
				start := len(parts)
				parts = append(parts, table.entry...)
				parts = append(parts, uint32(i+1), uint32(rows[r].Index))
				t, v := col(&rows[r])
				vars = append(vars, Var{OID: parts[start:len(parts):len(parts)], Type: t, Value: v})
			}
		}
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
