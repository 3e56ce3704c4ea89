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

func appendInterfaceVars(vars []Var, rows []Interface) []Var {
	vars = slices.Grow(vars, 1+len(rows)*41)
	vars = append(vars, Var{OID: oidIfNum, Type: Integer, Value: int64(len(rows))})
	// One backing array for every OID: a column's OIDs differ only in
	// the last part.
	n := len(rows) * (22*(len(oidIfEntry)+2) + 19*(len(oidIfX)+2))
	parts := make([]uint32, 0, n)
	oid := func(base OID, col uint32, index int) OID {
		start := len(parts)
		parts = append(parts, base...)
		parts = append(parts, col, uint32(index))
		return parts[start:len(parts):len(parts)]
	}
	status := func(up bool) int64 {
		if up {
			return 1
		}
		return 2
	}
	c32 := func(n uint64) uint32 { return uint32(n) } // Counter32 wraps
	for col := uint32(1); col <= 22; col++ {
		for _, r := range rows {
			c := r.Counters
			ucastIn := c.RxPackets - min(c.Multicast, c.RxPackets)
			var t Type
			var v any
			switch col {
			case 1:
				t, v = Integer, int64(r.Index)
			case 2:
				t, v = OctetString, []byte(r.Name)
			case 3:
				t, v = Integer, r.Type
			case 4:
				t, v = Integer, int64(r.MTU)
			case 5:
				t, v = Gauge32, uint32(min(r.SpeedMbps*1_000_000, 1<<32-1))
			case 6:
				t, v = OctetString, []byte(r.MAC)
			case 7:
				t, v = Integer, status(r.AdminUp)
			case 8:
				t, v = Integer, r.OperStatus
			case 9:
				t, v = TimeTicks, uint32(0)
			case 10:
				t, v = Counter32, c32(c.RxBytes)
			case 11:
				t, v = Counter32, c32(ucastIn)
			case 12:
				t, v = Counter32, c32(c.Multicast)
			case 13:
				t, v = Counter32, c32(c.RxDropped)
			case 14:
				t, v = Counter32, c32(c.RxErrors)
			case 15, 18:
				t, v = Counter32, uint32(0)
			case 16:
				t, v = Counter32, c32(c.TxBytes)
			case 17:
				t, v = Counter32, c32(c.TxPackets)
			case 19:
				t, v = Counter32, c32(c.TxDropped)
			case 20:
				t, v = Counter32, c32(c.TxErrors)
			case 21:
				t, v = Gauge32, uint32(0)
			case 22:
				t, v = ObjectIdentifier, OID{0, 0}
			}
			vars = append(vars, Var{OID: oid(oidIfEntry, col, r.Index), Type: t, Value: v})
		}
	}
	for col := uint32(1); col <= 19; col++ {
		for _, r := range rows {
			c := r.Counters
			ucastIn := c.RxPackets - min(c.Multicast, c.RxPackets)
			var t Type
			var v any
			switch col {
			case 1:
				t, v = OctetString, []byte(r.Name)
			case 2:
				t, v = Counter32, c32(c.Multicast)
			case 3, 4, 5:
				t, v = Counter32, uint32(0)
			case 6:
				t, v = Counter64, c.RxBytes
			case 7:
				t, v = Counter64, ucastIn
			case 8:
				t, v = Counter64, c.Multicast
			case 9, 12, 13:
				t, v = Counter64, uint64(0)
			case 10:
				t, v = Counter64, c.TxBytes
			case 11:
				t, v = Counter64, c.TxPackets
			case 14:
				t, v = Integer, int64(2) // linkUpDown traps disabled: the agent sends none
			case 15:
				t, v = Gauge32, uint32(min(r.SpeedMbps, 1<<32-1))
			case 16:
				t, v = Integer, status(r.Promiscuous)
			case 17:
				t, v = Integer, status(r.Type == 6)
			case 18:
				t, v = OctetString, []byte(r.Alias)
			case 19:
				t, v = TimeTicks, uint32(0)
			}
			vars = append(vars, Var{OID: oid(oidIfX, col, r.Index), Type: t, Value: v})
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
