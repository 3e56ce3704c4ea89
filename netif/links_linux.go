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
	var out []Link
	err := dumpLinks(func(m *syscall.NetlinkMessage) error {
		if m.Header.Type != syscall.RTM_NEWLINK || len(m.Data) < syscall.SizeofIfInfomsg {
			return nil
		}
		ifi := (*syscall.IfInfomsg)(unsafe.Pointer(&m.Data[0]))
		attrs, err := syscall.ParseNetlinkRouteAttr(m)
		if err != nil {
			return fmt.Errorf("netif: netlink link attributes: %w", err)
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
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Link) int { return a.Index - b.Index })
	return out, nil
}

// dumpLinks asks the kernel for every link (an RTM_GETLINK dump) and hands
// each message to fn as it is read: syscall.NetlinkRIB gathers the whole
// dump in one slice that it grows by copying, which with thousands of
// links costs more than the rest together.
func dumpLinks(fn func(*syscall.NetlinkMessage) error) error {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netif: netlink socket: %w", err)
	}
	defer syscall.Close(fd)
	sa := &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}
	if err := syscall.Bind(fd, sa); err != nil {
		return fmt.Errorf("netif: netlink bind: %w", err)
	}
	req := make([]byte, syscall.NLMSG_HDRLEN+syscall.SizeofRtGenmsg)
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], syscall.RTM_GETLINK)
	binary.NativeEndian.PutUint16(req[6:], syscall.NLM_F_DUMP|syscall.NLM_F_REQUEST)
	binary.NativeEndian.PutUint32(req[8:], 1) // sequence number
	req[syscall.NLMSG_HDRLEN] = syscall.AF_UNSPEC
	if err := syscall.Sendto(fd, req, 0, sa); err != nil {
		return fmt.Errorf("netif: netlink RTM_GETLINK: %w", err)
	}
	buf := make([]byte, 1<<20)
	for {
		n, _, err := syscall.Recvfrom(fd, buf, 0)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			return fmt.Errorf("netif: netlink read: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return fmt.Errorf("netif: netlink: %w", err)
		}
		for i := range msgs {
			switch msgs[i].Header.Type {
			case syscall.NLMSG_DONE:
				return nil
			case syscall.NLMSG_ERROR:
				if len(msgs[i].Data) >= 4 {
					if e := int32(binary.NativeEndian.Uint32(msgs[i].Data)); e != 0 {
						return fmt.Errorf("netif: netlink RTM_GETLINK: %w", syscall.Errno(-e))
					}
				}
				return nil
			}
			if err := fn(&msgs[i]); err != nil {
				return err
			}
		}
	}
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
