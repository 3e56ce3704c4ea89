package netif

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// Link is an interface with its counters.
type Link struct {
	Interface // without Addrs
	Counters  Counters
}

// Links returns every interface with its counters, ordered by index, from
// one netlink dump (RTM_GETLINK), as `ip -s link` reads them: cheap with
// thousands of interfaces, where List reads each one's addresses and
// state apart. Link speeds are read from sysfs for physical links only.
func Links() ([]Link, error) {
	rib, err := syscall.NetlinkRIB(syscall.RTM_GETLINK, syscall.AF_UNSPEC)
	if err != nil {
		return nil, fmt.Errorf("netif: netlink RTM_GETLINK: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return nil, fmt.Errorf("netif: netlink: %w", err)
	}
	var out []Link
	for _, m := range msgs {
		if m.Header.Type != syscall.RTM_NEWLINK || len(m.Data) < syscall.SizeofIfInfomsg {
			continue
		}
		ifi := (*syscall.IfInfomsg)(unsafe.Pointer(&m.Data[0]))
		attrs, err := syscall.ParseNetlinkRouteAttr(&m)
		if err != nil {
			return nil, fmt.Errorf("netif: netlink link attributes: %w", err)
		}
		l := Link{Interface: Interface{Index: int(ifi.Index), Flags: linkFlags(ifi.Flags)}}
		l.Counters.Promiscuous = ifi.Flags&syscall.IFF_PROMISC != 0
		physical := true
		for _, a := range attrs {
			v := a.Value
			switch a.Attr.Type {
			case syscall.IFLA_IFNAME:
				l.Name = strings.TrimRight(string(v), "\x00")
			case syscall.IFLA_MTU:
				if len(v) >= 4 {
					l.MTU = int(binary.NativeEndian.Uint32(v))
				}
			case syscall.IFLA_ADDRESS:
				if len(v) > 0 && !allZero(v) {
					l.HardwareAddr = net.HardwareAddr(slices.Clone(v))
				}
			case syscall.IFLA_OPERSTATE:
				if len(v) >= 1 {
					l.OperState = operStates[min(int(v[0]), len(operStates)-1)]
				}
			case iflaIfalias:
				l.Counters.Alias = strings.TrimRight(string(v), "\x00")
			case syscall.IFLA_LINKINFO:
				physical = false
			case iflaStats64:
				if len(v) >= 9*8 {
					c := &l.Counters
					for i, p := range []*uint64{&c.RxPackets, &c.TxPackets, &c.RxBytes, &c.TxBytes, &c.RxErrors, &c.TxErrors, &c.RxDropped, &c.TxDropped, &c.Multicast} {
						*p = binary.NativeEndian.Uint64(v[i*8:])
					}
				}
			}
		}
		if physical && l.Flags&net.FlagLoopback == 0 {
			if b, err := os.ReadFile("/sys/class/net/" + l.Name + "/speed"); err == nil {
				if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 {
					l.Counters.SpeedMbps = uint64(n)
				}
			}
		}
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b Link) int { return a.Index - b.Index })
	return out, nil
}

const (
	iflaIfalias = 20 // IFLA_IFALIAS
	iflaStats64 = 23 // IFLA_STATS64
)

// operStates are RFC 2863's states in the order IFLA_OPERSTATE numbers
// them, as `ip link` names them.
var operStates = []string{"unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up", "unknown"}

func linkFlags(f uint32) net.Flags {
	var nf net.Flags
	for _, m := range []struct {
		sys uint32
		net net.Flags
	}{
		{syscall.IFF_UP, net.FlagUp}, {syscall.IFF_BROADCAST, net.FlagBroadcast}, {syscall.IFF_LOOPBACK, net.FlagLoopback},
		{syscall.IFF_POINTOPOINT, net.FlagPointToPoint}, {syscall.IFF_MULTICAST, net.FlagMulticast}, {syscall.IFF_RUNNING, net.FlagRunning},
	} {
		if f&m.sys != 0 {
			nf |= m.net
		}
	}
	return nf
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
