// Package netif lists the system's network interfaces and their addresses,
// the facts that `ip addr` shows: index, name, flags, MTU, hardware
// address, operational state, and each address with its prefix length and
// scope.
package netif

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Interface is one network interface.
type Interface struct {
	Index        int
	Name         string
	Flags        net.Flags
	MTU          int
	HardwareAddr net.HardwareAddr
	// OperState is the kernel's operational state, as `ip link` shows it:
	// "up", "down", "unknown" (usual for loopback), "dormant", ... It is
	// empty where the system does not say.
	OperState string
	// Addrs holds each address with its prefix length: the address is the
	// interface's own (host bits kept), as in 192.0.2.7/24.
	Addrs []netip.Prefix
}

// List returns every interface, ordered by index.
func List() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("netif: list interfaces: %w", err)
	}
	out := make([]Interface, 0, len(ifs))
	for _, ifi := range ifs {
		it, err := fromNet(ifi)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

// ByName returns the interface called name.
func ByName(name string) (Interface, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return Interface{}, fmt.Errorf("netif: no interface named %q", name)
	}
	return fromNet(*ifi)
}

func fromNet(ifi net.Interface) (Interface, error) {
	it := Interface{
		Index:        ifi.Index,
		Name:         ifi.Name,
		Flags:        ifi.Flags,
		MTU:          ifi.MTU,
		HardwareAddr: ifi.HardwareAddr,
		OperState:    operState(ifi.Name),
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return Interface{}, fmt.Errorf("netif: addresses of %s: %w", ifi.Name, err)
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		addr, ok := netip.AddrFromSlice(ipn.IP)
		if !ok {
			continue
		}
		addr = addr.Unmap()
		ones, _ := ipn.Mask.Size()
		if addr.Is6() && addr.IsLinkLocalUnicast() {
			addr = addr.WithZone(ifi.Name)
		}
		it.Addrs = append(it.Addrs, netip.PrefixFrom(addr, ones))
	}
	return it, nil
}

// FlagNames returns the interface flags as upper-case words, as `ip link`
// prints them: UP, BROADCAST, LOOPBACK, POINTOPOINT, MULTICAST, RUNNING.
func (it Interface) FlagNames() []string {
	names := []string{}
	for _, f := range []struct {
		flag net.Flags
		name string
	}{
		{net.FlagUp, "UP"},
		{net.FlagBroadcast, "BROADCAST"},
		{net.FlagLoopback, "LOOPBACK"},
		{net.FlagPointToPoint, "POINTOPOINT"},
		{net.FlagMulticast, "MULTICAST"},
		{net.FlagRunning, "RUNNING"},
	} {
		if it.Flags&f.flag != 0 {
			names = append(names, f.name)
		}
	}
	return names
}

// Scope names the reach of an address as `ip addr` does: "host" for
// loopback, "link" for link-local, "global" for the rest.
func Scope(a netip.Addr) string {
	switch {
	case a.IsLoopback():
		return "host"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast():
		return "link"
	}
	return "global"
}

// Family names an address's family as `ip addr` does: "inet" or "inet6".
func Family(a netip.Addr) string {
	if a.Is4() {
		return "inet"
	}
	return "inet6"
}

func normState(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
