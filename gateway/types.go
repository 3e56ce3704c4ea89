package gateway

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/acl"
)

// Proto is a transport protocol a rule or forward names. The zero Proto
// is any protocol (in a rule; a forward must name one).
type Proto uint8

const (
	AnyProto Proto = iota
	TCP
	UDP
)

func (p Proto) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return "any"
}

// ParseProto reads "tcp", "udp" or "any".
func ParseProto(s string) (Proto, error) {
	switch strings.ToLower(s) {
	case "tcp":
		return TCP, nil
	case "udp":
		return UDP, nil
	case "any", "":
		return AnyProto, nil
	}
	return 0, fmt.Errorf("protocol %q: want tcp, udp or any", s)
}

// MarshalText writes the protocol's name.
func (p Proto) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads tcp, udp or any.
func (p *Proto) UnmarshalText(b []byte) error {
	v, err := ParseProto(string(b))
	*p = v
	return err
}

// covers reports whether p matches every flow q matches.
func (p Proto) covers(q Proto) bool { return p == AnyProto || p == q }

// matches reports whether a rule's p matches a flow's protocol q.
func (p Proto) matches(q Proto) bool { return p == AnyProto || p == q }

// Action is what a rule, or the default policy, does with a flow.
type Action uint8

const (
	// Deny turns the flow away without a word: a TCP connection is
	// closed (the gateway, being a user-space program, has already
	// completed the handshake), a UDP datagram is dropped.
	Deny Action = iota
	// Allow forwards the flow.
	Allow
	// Reject turns the flow away with a reset: a TCP connection is
	// reset (RST). A UDP datagram is dropped, as with Deny.
	Reject
)

func (a Action) String() string {
	switch a {
	case Allow:
		return "allow"
	case Reject:
		return "reject"
	}
	return "deny"
}

// past is the action as what happened to a flow: allowed, denied,
// rejected.
func (a Action) past() string {
	if a == Deny {
		return "denied"
	}
	return a.String() + "ed"
}

// MarshalText writes the action's name.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads allow, deny or reject (drop is deny, accept is
// allow, as nftables has them).
func (a *Action) UnmarshalText(b []byte) error {
	switch strings.ToLower(string(b)) {
	case "allow", "accept":
		*a = Allow
	case "deny", "drop":
		*a = Deny
	case "reject":
		*a = Reject
	default:
		return fmt.Errorf("action %q: want allow, deny or reject", b)
	}
	return nil
}

// PortRange is an inclusive range of ports.
type PortRange struct{ Lo, Hi uint16 }

func (r PortRange) String() string {
	if r.Lo == r.Hi {
		return strconv.Itoa(int(r.Lo))
	}
	return fmt.Sprintf("%d-%d", r.Lo, r.Hi)
}

// Contains reports whether p is in the range.
func (r PortRange) Contains(p uint16) bool { return r.Lo <= p && p <= r.Hi }

// Ports is a set of destination ports, written as nftables writes a set:
// "80", "8000-8100", "80,443,8000-8100". The zero Ports is every port.
type Ports struct {
	ranges []PortRange // sorted, merged
}

// ParsePorts reads a port set.
func ParsePorts(s string) (Ports, error) {
	var rs []PortRange
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		l, err := parsePort(lo)
		if err != nil {
			return Ports{}, fmt.Errorf("port %q: %w", part, err)
		}
		h := l
		if isRange {
			if h, err = parsePort(hi); err != nil {
				return Ports{}, fmt.Errorf("port range %q: %w", part, err)
			}
			if h < l {
				return Ports{}, fmt.Errorf("port range %q: the first port is above the last", part)
			}
		}
		rs = append(rs, PortRange{l, h})
	}
	return PortsOf(rs...), nil
}

func parsePort(s string) (uint16, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("want a port from 1 to 65535, or a range such as 8000-8100")
	}
	return uint16(n), nil
}

// PortsOf returns the set of the given ranges.
func PortsOf(rs ...PortRange) Ports {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b PortRange) int { return int(a.Lo) - int(b.Lo) })
	var out []PortRange
	for _, r := range rs {
		if n := len(out); n > 0 && int(r.Lo) <= int(out[n-1].Hi)+1 {
			out[n-1].Hi = max(out[n-1].Hi, r.Hi)
			continue
		}
		out = append(out, r)
	}
	return Ports{ranges: out}
}

// IsAny reports whether the set is every port.
func (p Ports) IsAny() bool { return len(p.ranges) == 0 }

// Ranges returns the set's ranges, sorted and merged; none for every port.
func (p Ports) Ranges() []PortRange { return slices.Clone(p.ranges) }

// Contains reports whether port is in the set.
func (p Ports) Contains(port uint16) bool {
	if p.IsAny() {
		return true
	}
	i, _ := slices.BinarySearchFunc(p.ranges, port, func(r PortRange, port uint16) int {
		switch {
		case r.Hi < port:
			return -1
		case r.Lo > port:
			return 1
		}
		return 0
	})
	return i < len(p.ranges) && p.ranges[i].Contains(port)
}

// covers reports whether every port of q is in p.
func (p Ports) covers(q Ports) bool {
	if p.IsAny() {
		return true
	}
	if q.IsAny() {
		return false
	}
	for _, r := range q.ranges {
		i := slices.IndexFunc(p.ranges, func(pr PortRange) bool { return pr.Lo <= r.Lo && r.Hi <= pr.Hi })
		if i < 0 {
			return false
		}
	}
	return true
}

func (p Ports) String() string {
	if p.IsAny() {
		return "any"
	}
	s := make([]string, len(p.ranges))
	for i, r := range p.ranges {
		s[i] = r.String()
	}
	return strings.Join(s, ",")
}

// MarshalText writes the set as ParsePorts reads it.
func (p Ports) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads a set as ParsePorts does.
func (p *Ports) UnmarshalText(b []byte) error {
	v, err := ParsePorts(string(b))
	*p = v
	return err
}

// Prefix is a source prefix in a rule: an address or a CIDR prefix
// without host bits, as [acl.ParsePrefix] reads it. IPv4-mapped IPv6 is
// IPv4.
type Prefix struct{ netip.Prefix }

// UnmarshalText reads an address or prefix.
func (p *Prefix) UnmarshalText(b []byte) error {
	v, err := acl.ParsePrefix(string(b))
	if err != nil {
		if pe, ok := err.(*acl.ParseError); ok {
			return fmt.Errorf("source %q: %s", pe.Input, pe.Rule)
		}
		return err
	}
	p.Prefix = acl.Unmap(v)
	return nil
}

// AddrPort is an address and port in a forward: "198.51.100.1:80",
// "[2001:db8::1]:80", "0.0.0.0:80" or "[::]:80" (every address). Port 0
// in a listen address picks a free port (for tests).
type AddrPort struct{ netip.AddrPort }

// UnmarshalText reads an address and port.
func (a *AddrPort) UnmarshalText(b []byte) error {
	v, err := netip.ParseAddrPort(string(b))
	if err != nil {
		return fmt.Errorf("address %q: want ADDRESS:PORT, such as 192.0.2.10:8080 or [2001:db8::10]:8080", b)
	}
	if v.Addr().Zone() != "" {
		return fmt.Errorf("address %q: zones have no place here", b)
	}
	a.AddrPort = v
	return nil
}

// Duration is a duration written as Go writes one: "90s", "5m", "2h4m".
type Duration struct{ time.Duration }

// UnmarshalText reads a positive duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil || v <= 0 {
		return fmt.Errorf("duration %q: want a positive duration such as 90s, 5m or 2h4m", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

// Window is a daily time window, "08:00-18:00"; one that ends before it
// starts crosses midnight ("22:00-06:00"). The start is in the window,
// the end is not. The zero Window is always.
type Window struct {
	From, To int // minutes since midnight
	set      bool
}

// ParseWindow reads HH:MM-HH:MM.
func ParseWindow(s string) (Window, error) {
	from, to, ok := strings.Cut(s, "-")
	f, err1 := parseClock(from)
	t, err2 := parseClock(to)
	if !ok || err1 != nil || err2 != nil || f == t {
		return Window{}, fmt.Errorf("time window %q: want HH:MM-HH:MM with two different times, such as 08:00-18:00 or 22:00-06:00", s)
	}
	return Window{From: f, To: t, set: true}, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || hh > 24 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, fmt.Errorf("bad clock time %q", s)
	}
	return hh*60 + mm, nil
}

// IsSet reports whether the window limits anything.
func (w Window) IsSet() bool { return w.set }

// Contains reports whether t's clock time, in t's location, is in the
// window.
func (w Window) Contains(t time.Time) bool {
	if !w.set {
		return true
	}
	m := t.Hour()*60 + t.Minute()
	if w.From < w.To {
		return w.From <= m && m < w.To
	}
	return m >= w.From || m < w.To
}

func (w Window) String() string {
	if !w.set {
		return "always"
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", w.From/60, w.From%60, w.To/60, w.To%60)
}

// MarshalText writes the window as ParseWindow reads it.
func (w Window) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// UnmarshalText reads a window as ParseWindow does.
func (w *Window) UnmarshalText(b []byte) error {
	v, err := ParseWindow(string(b))
	*w = v
	return err
}
