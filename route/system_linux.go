package route

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"unsafe"
)

// System returns every route of the kernel's tables, IPv4 and IPv6, read
// over netlink. Multipath routes are listed by their first hop.
func System() ([]Route, error) {
	b, err := syscall.NetlinkRIB(syscall.RTM_GETROUTE, syscall.AF_UNSPEC)
	if err != nil {
		return nil, fmt.Errorf("route: netlink dump: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(b)
	if err != nil {
		return nil, fmt.Errorf("route: netlink parse: %w", err)
	}
	names := map[int]string{}
	if ifs, err := net.Interfaces(); err == nil {
		for _, i := range ifs {
			names[i.Index] = i.Name
		}
	}
	var out []Route
	for i := range msgs {
		m := &msgs[i]
		if m.Header.Type != syscall.RTM_NEWROUTE || len(m.Data) < syscall.SizeofRtMsg {
			continue
		}
		rt := (*syscall.RtMsg)(unsafe.Pointer(&m.Data[0]))
		if rt.Family != syscall.AF_INET && rt.Family != syscall.AF_INET6 {
			continue
		}
		attrs, err := syscall.ParseNetlinkRouteAttr(m)
		if err != nil {
			continue
		}
		r := Route{
			Table: int(rt.Table),
			Type:  name(typeNames, rt.Type),
			Scope: name(scopeNames, rt.Scope),
			Proto: name(protoNames, rt.Protocol),
		}
		zero := netip.IPv4Unspecified()
		if rt.Family == syscall.AF_INET6 {
			zero = netip.IPv6Unspecified()
		}
		r.Dst = netip.PrefixFrom(zero, int(rt.Dst_len))
		for _, a := range attrs {
			switch a.Attr.Type {
			case syscall.RTA_DST:
				if ip, ok := netip.AddrFromSlice(a.Value); ok {
					r.Dst = netip.PrefixFrom(ip, int(rt.Dst_len))
				}
			case syscall.RTA_GATEWAY:
				r.Gateway, _ = netip.AddrFromSlice(a.Value)
			case syscall.RTA_PREFSRC:
				r.Src, _ = netip.AddrFromSlice(a.Value)
			case syscall.RTA_OIF:
				if len(a.Value) >= 4 {
					r.Iface = names[int(binary.NativeEndian.Uint32(a.Value))]
				}
			case syscall.RTA_PRIORITY:
				if len(a.Value) >= 4 {
					r.Metric = int(binary.NativeEndian.Uint32(a.Value))
				}
			case syscall.RTA_TABLE:
				if len(a.Value) >= 4 {
					r.Table = int(binary.NativeEndian.Uint32(a.Value))
				}
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func name[S ~string](m map[uint8]S, v uint8) S {
	if s, ok := m[v]; ok {
		return s
	}
	return S(fmt.Sprint(v))
}
