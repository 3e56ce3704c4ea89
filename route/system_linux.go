package route

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"unsafe"
)

// System returns every route of the kernel's tables, IPv4 and IPv6, read
// over netlink, multipath routes with all their hops.
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
			case rtaMultipath:
				for _, n := range nexthops(a.Value, names) {
					addHop(&r, n)
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

const rtaMultipath = 9 // RTA_MULTIPATH

// nexthops reads RTA_MULTIPATH: rtnexthop records (length, flags, hops =
// weight-1, interface index), each followed by its own attributes.
func nexthops(b []byte, names map[int]string) []Nexthop {
	var out []Nexthop
	for len(b) >= 8 {
		l := int(binary.NativeEndian.Uint16(b))
		if l < 8 || l > len(b) {
			break
		}
		n := Nexthop{Weight: int(b[3]) + 1, Iface: names[int(int32(binary.NativeEndian.Uint32(b[4:])))]}
		for attrs := b[8:l]; len(attrs) >= 4; {
			al, at := int(binary.NativeEndian.Uint16(attrs)), binary.NativeEndian.Uint16(attrs[2:])
			if al < 4 || al > len(attrs) {
				break
			}
			if at == syscall.RTA_GATEWAY {
				n.Gateway, _ = netip.AddrFromSlice(attrs[4:al])
			}
			attrs = attrs[min((al+3)&^3, len(attrs)):]
		}
		out = append(out, n)
		b = b[min((l+3)&^3, len(b)):]
	}
	return out
}

// Netlink's fib rule message and attributes (linux/fib_rules.h).
const (
	rtmGetRule          = 34
	rtmNewRule          = 32
	fraDst              = 1
	fraSrc              = 2
	fraIifname          = 3
	fraPriority         = 6
	fraFwmark           = 10
	fraSuppressPrefixln = 14
	fraTable            = 15
	fraOifname          = 17
	fibRuleInvert       = 2
)

// SystemRules returns the kernel's policy routing rules, IPv4 and IPv6,
// read over netlink (ip rule; ip -6 rule).
func SystemRules() ([]Rule, error) {
	var out []Rule
	for _, fam := range []int{syscall.AF_INET, syscall.AF_INET6} {
		b, err := syscall.NetlinkRIB(rtmGetRule, fam)
		if err != nil {
			return nil, fmt.Errorf("route: netlink rule dump: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(b)
		if err != nil {
			return nil, fmt.Errorf("route: netlink parse: %w", err)
		}
		for i := range msgs {
			m := &msgs[i]
			if m.Header.Type != rtmNewRule || len(m.Data) < 12 {
				continue
			}
			h := m.Data
			family, dstLen, srcLen, table, action := h[0], int(h[1]), int(h[2]), int(h[4]), h[7]
			flags := binary.NativeEndian.Uint32(h[8:])
			r := Rule{IPv6: family == syscall.AF_INET6, Table: table, Not: flags&fibRuleInvert != 0, SuppressPrefixLength: -1}
			switch action {
			case 1:
				r.Action = "lookup"
			case 2:
				r.Action = "goto"
			case 3:
				r.Action = "nop"
			case 6:
				r.Action = "blackhole"
			case 7:
				r.Action = "unreachable"
			case 8:
				r.Action = "prohibit"
			default:
				r.Action = fmt.Sprint(action)
			}
			// syscall.ParseNetlinkRouteAttr does not know rule messages:
			// the attributes follow the 12-byte header.
			for b := h[12:]; len(b) >= 4; {
				al, at := int(binary.NativeEndian.Uint16(b)), binary.NativeEndian.Uint16(b[2:])
				if al < 4 || al > len(b) {
					break
				}
				v := b[4:al]
				b = b[min((al+3)&^3, len(b)):]
				switch at {
				case fraDst:
					if ip, ok := netip.AddrFromSlice(v); ok {
						r.To = netip.PrefixFrom(ip, dstLen)
					}
				case fraSrc:
					if ip, ok := netip.AddrFromSlice(v); ok {
						r.From = netip.PrefixFrom(ip, srcLen)
					}
				case fraIifname:
					r.Iif = strings.TrimRight(string(v), "\x00")
				case fraOifname:
					r.Oif = strings.TrimRight(string(v), "\x00")
				case fraPriority:
					if len(v) >= 4 {
						r.Priority = int(binary.NativeEndian.Uint32(v))
					}
				case fraFwmark:
					if len(v) >= 4 {
						r.Fwmark = binary.NativeEndian.Uint32(v)
					}
				case fraTable:
					if len(v) >= 4 {
						r.Table = int(binary.NativeEndian.Uint32(v))
					}
				case fraSuppressPrefixln:
					if len(v) >= 4 {
						r.SuppressPrefixLength = int(int32(binary.NativeEndian.Uint32(v)))
					}
				}
			}
			out = append(out, r)
		}
	}
	return out, nil
}
