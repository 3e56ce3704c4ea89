package capture

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// Filter is a compiled capture filter: classic BPF for Ethernet frames,
// from the common part of tcpdump's language (pcap-filter(7)): ip, ip6,
// arp, rarp, tcp, udp, icmp, icmp6, sctp; [src|dst] host ADDR, [src|dst]
// net PREFIX, [tcp|udp|sctp] [src|dst] port N and portrange A-B;
// tcp[...], udp[...], icmp[...] and ip[...] byte tests with & and
// comparisons (tcp[tcpflags] & tcp-syn != 0); not/!, and/&&, or/||
// (and and or of equal precedence, left to right, as tcpdump has them)
// and parentheses; a bare address or port after and/or keeps the
// qualifiers before it (host a or b); vlan [ID], after which every test
// reads the packet past the tag, as tcpdump has it ([Filter.ForLive]
// reads the outer tag where Linux keeps it, beside the packet).
//
// The program is for Ethernet frames; [Filter.ForLink] relocates it for
// Linux cooked captures, as libpcap does.
type Filter struct {
	Expr    string
	Program []bpf.Instruction

	vlan bool // tests VLAN tags in the packet

	sllOnce sync.Once
	sll     *Filter // for LINUX_SLL frames, made on first use
	sllErr  error
}

// CompileFilter compiles expr; an error names the word it could not
// take and why.
func CompileFilter(expr string) (*Filter, error) { return compileFilter(expr, false) }

// ForLive returns the program for a live capture on Linux, which differs
// only with vlan: the kernel has taken the outer tag off the frame and
// keeps it beside the packet, so the first vlan reads it with the
// kernel's ancillary loads and later tests are not moved past it (inner
// tags of QinQ stay in the frame, and are read there), as libpcap does
// on Linux.
func (f *Filter) ForLive() (*Filter, error) {
	if !f.vlan {
		return f, nil
	}
	return compileFilter(f.Expr, true)
}

func compileFilter(expr string, live bool) (*Filter, error) {
	toks := tokenize(expr)
	p := &parser{toks: toks, expr: expr, live: live}
	var n node
	if len(toks) == 0 {
		n = func(c *gen, t, f int) { c.jmp(t) }
	} else {
		var err error
		if n, err = p.parseOr(); err != nil {
			return nil, err
		}
		if p.pos < len(toks) {
			return nil, p.errorf("unexpected %q", toks[p.pos])
		}
	}
	c := &gen{}
	accept, reject := c.label(), c.label()
	n(c, accept, reject)
	c.define(accept)
	c.emit(bpf.RetConstant{Val: 262144})
	c.define(reject)
	c.emit(bpf.RetConstant{Val: 0})
	prog, err := c.assemble()
	if err != nil {
		return nil, fmt.Errorf("invalid filter %q: %v", expr, err)
	}
	return &Filter{Expr: expr, Program: prog, vlan: p.usesVLAN}, nil
}

// Match runs the program on a frame, as the kernel would.
func (f *Filter) Match(frame []byte) bool {
	vm, err := bpf.NewVM(f.Program)
	if err != nil {
		return false
	}
	n, err := vm.Run(frame)
	return err == nil && n > 0
}

// Raw is the program as the kernel takes it (SO_ATTACH_FILTER).
func (f *Filter) Raw() ([]bpf.RawInstruction, error) { return bpf.Assemble(f.Program) }

// ---- code generation: instructions with symbolic jump targets.

type item struct {
	ins     bpf.Instruction
	cond    bool
	jc      bpf.JumpTest
	val     uint32
	jt, jf  int // labels
	jump    bool
	label   int // > 0: defines this label
	isLabel bool
}

type gen struct {
	items  []item
	labels int
	shift  uint32 // added to every packet offset: 4 a VLAN tag before
}

func (c *gen) label() int   { c.labels++; return c.labels }
func (c *gen) define(l int) { c.items = append(c.items, item{label: l, isLabel: true}) }
func (c *gen) emit(i bpf.Instruction) {
	switch in := i.(type) {
	case bpf.LoadAbsolute:
		in.Off += c.shift
		i = in
	case bpf.LoadIndirect:
		in.Off += c.shift
		i = in
	case bpf.LoadMemShift:
		in.Off += c.shift
		i = in
	}
	c.items = append(c.items, item{ins: i})
}

// shifted is n reading a packet whose headers come by more bytes later
// (after VLAN tags).
func shifted(n node, by uint32) node {
	if by == 0 {
		return n
	}
	return func(c *gen, t, f int) {
		c.shift += by
		n(c, t, f)
		c.shift -= by
	}
}

// ancillaryVLAN tests the tag the kernel keeps beside the packet.
func ancillaryVLAN(id int) node {
	n := eq(bpf.LoadExtension{Num: bpf.ExtVLANTagPresent}, 1)
	if id >= 0 {
		n = and(n, masked(bpf.LoadExtension{Num: bpf.ExtVLANTag}, 0x0fff, uint32(id)))
	}
	return n
}

// vlan matches an 802.1Q (or 802.1ad, or the old 0x9100) tag, with the
// ID when id >= 0: the tag's type at 12, its ID in the low 12 bits at 14.
func vlan(id int) node {
	n := anyOf(ether(0x8100), ether(0x88a8), ether(0x9100))
	if id >= 0 {
		n = and(n, masked(load(14, 2), 0x0fff, uint32(id)))
	}
	return n
}
func (c *gen) jmp(l int) { c.items = append(c.items, item{jump: true, jt: l}) }
func (c *gen) test(jc bpf.JumpTest, v uint32, t, f int) {
	c.items = append(c.items, item{cond: true, jc: jc, val: v, jt: t, jf: f})
}

func (c *gen) assemble() ([]bpf.Instruction, error) {
	pos := map[int]int{}
	n := 0
	for _, it := range c.items {
		if it.isLabel {
			pos[it.label] = n
		} else {
			n++
		}
	}
	var out []bpf.Instruction
	for _, it := range c.items {
		if it.isLabel {
			continue
		}
		here := len(out)
		switch {
		case it.jump:
			out = append(out, bpf.Jump{Skip: uint32(pos[it.jt] - here - 1)})
		case it.cond:
			st, sf := pos[it.jt]-here-1, pos[it.jf]-here-1
			if st < 0 || sf < 0 || st > 255 || sf > 255 {
				return nil, fmt.Errorf("the program is too long for classic BPF's jumps")
			}
			out = append(out, bpf.JumpIf{Cond: it.jc, Val: it.val, SkipTrue: uint8(st), SkipFalse: uint8(sf)})
		default:
			out = append(out, it.ins)
		}
	}
	return out, nil
}

// node emits code that jumps to t when it holds and to f when not.
type node func(c *gen, t, f int)

func and(a, b node) node {
	return func(c *gen, t, f int) { m := c.label(); a(c, m, f); c.define(m); b(c, t, f) }
}

func or(a, b node) node {
	return func(c *gen, t, f int) { m := c.label(); a(c, t, m); c.define(m); b(c, t, f) }
}

func not(a node) node { return func(c *gen, t, f int) { a(c, f, t) } }

func anyOf(ns ...node) node {
	n := ns[0]
	for _, m := range ns[1:] {
		n = or(n, m)
	}
	return n
}

func load(off uint32, size int) bpf.Instruction { return bpf.LoadAbsolute{Off: off, Size: size} }

// eq loads and compares.
func eq(ld bpf.Instruction, v uint32) node {
	return func(c *gen, t, f int) { c.emit(ld); c.test(bpf.JumpEqual, v, t, f) }
}

func masked(ld bpf.Instruction, mask, v uint32) node {
	return func(c *gen, t, f int) {
		c.emit(ld)
		if mask != 0xffffffff {
			c.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: mask})
		}
		c.test(bpf.JumpEqual, v, t, f)
	}
}

const (
	etherIPv4 = 0x0800
	etherIPv6 = 0x86dd
	etherARP  = 0x0806
	etherRARP = 0x8035
)

func ether(typ uint32) node { return eq(load(12, 2), typ) }

// notFragment: an IPv4 packet that is not a later fragment.
func notFragment() node {
	return func(c *gen, t, f int) { c.emit(load(20, 2)); c.test(bpf.JumpBitsSet, 0x1fff, f, t) }
}

func ipProto(p uint32) node { return and(ether(etherIPv4), eq(load(23, 1), p)) }

// ip6Proto is next header p, or a fragment header followed by p.
func ip6Proto(p uint32) node {
	return and(ether(etherIPv6), or(eq(load(20, 1), p), and(eq(load(20, 1), 44), eq(load(54, 1), p))))
}

func proto(p uint32) node {
	switch p {
	case 1:
		return ipProto(1)
	case 58:
		return ip6Proto(58)
	}
	return or(ip6Proto(p), ipProto(p))
}

// portTest is a test of a port: eq or a range.
func portTest(off func() bpf.Instruction, lo, hi uint32) node {
	if lo == hi {
		return func(c *gen, t, f int) { c.emit(off()); c.test(bpf.JumpEqual, lo, t, f) }
	}
	return func(c *gen, t, f int) {
		m := c.label()
		c.emit(off())
		c.test(bpf.JumpGreaterOrEqual, lo, m, f)
		c.define(m)
		c.test(bpf.JumpGreaterThan, hi, f, t)
	}
}

func ports(dir string, protos []uint32, lo, hi uint32) node {
	ind := func(o uint32) func() bpf.Instruction {
		return func() bpf.Instruction { return bpf.LoadIndirect{Off: o, Size: 2} }
	}
	abs := func(o uint32) func() bpf.Instruction { return func() bpf.Instruction { return load(o, 2) } }
	side := func(src, dst node) node {
		switch dir {
		case "src":
			return src
		case "dst":
			return dst
		}
		return or(src, dst)
	}
	var p6, p4 []node
	for _, p := range protos {
		p6 = append(p6, eq(load(20, 1), p))
		p4 = append(p4, eq(load(23, 1), p))
	}
	v6 := and(and(ether(etherIPv6), anyOf(p6...)), side(portTest(abs(54), lo, hi), portTest(abs(56), lo, hi)))
	msh := func(c *gen, t, f int) { c.emit(bpf.LoadMemShift{Off: 14}); c.jmp(t) }
	v4 := and(and(and(and(ether(etherIPv4), anyOf(p4...)), notFragment()), msh), side(portTest(ind(14), lo, hi), portTest(ind(16), lo, hi)))
	return or(v6, v4)
}

// hostOrNet matches an address (bits = its length) or a network.
func hostOrNet(dir string, p netip.Prefix) node {
	a := p.Addr()
	if a.Is4() {
		v := binary.BigEndian.Uint32(a.AsSlice())
		mask := uint32(0xffffffff) << (32 - p.Bits())
		if p.Bits() == 0 {
			mask = 0
		}
		at := func(off uint32) node { return masked(load(off, 4), mask, v&mask) }
		side := func(s, d node) node {
			switch dir {
			case "src":
				return s
			case "dst":
				return d
			}
			return or(s, d)
		}
		ipn := and(ether(etherIPv4), side(at(26), at(30)))
		arp := and(ether(etherARP), side(at(28), at(38)))
		rarp := and(ether(etherRARP), side(at(28), at(38)))
		return anyOf(ipn, arp, rarp)
	}
	b := a.As16()
	at := func(off uint32) node {
		var n node
		for w := 0; w < 4; w++ {
			bits := min(max(p.Bits()-32*w, 0), 32)
			if bits == 0 {
				break
			}
			mask := uint32(0xffffffff) << (32 - bits)
			v := binary.BigEndian.Uint32(b[4*w:]) & mask
			t := masked(load(off+uint32(4*w), 4), mask, v)
			if n == nil {
				n = t
			} else {
				n = and(n, t)
			}
		}
		if n == nil {
			return func(c *gen, t, f int) { c.jmp(t) }
		}
		return n
	}
	switch dir {
	case "src":
		return and(ether(etherIPv6), at(22))
	case "dst":
		return and(ether(etherIPv6), at(38))
	}
	return and(ether(etherIPv6), or(at(22), at(38)))
}

// ---- parsing.

func tokenize(s string) []string {
	var toks []string
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case strings.HasPrefix(s[i:], "&&") || strings.HasPrefix(s[i:], "||") || strings.HasPrefix(s[i:], "!=") ||
			strings.HasPrefix(s[i:], "==") || strings.HasPrefix(s[i:], "<=") || strings.HasPrefix(s[i:], ">="):
			toks = append(toks, s[i:i+2])
			i += 2
		case strings.IndexByte("()[]!&|=<>:", c) >= 0:
			toks = append(toks, string(c))
			i++
		default:
			j := i
			for j < len(s) && strings.IndexByte(" \t\n()[]!&|=<>", s[j]) < 0 {
				if s[j] == ':' && !strings.Contains(s[i:j], ".") && strings.Count(s[i:], ":") < 2 {
					break // tcp[13:1]: a size, not an IPv6 address
				}
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks
}

type parser struct {
	toks     []string
	pos      int
	expr     string
	last     *qual  // the qualifiers of the last primitive, for "host a or b"
	shift    uint32 // 4 a vlan primitive so far
	usesVLAN bool
	live     bool // the outer VLAN tag is beside the packet, not in it
	outer    bool // the outer tag has been tested
}

type qual struct{ proto, dir, kind string }

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid filter %q: %s", p.expr, fmt.Sprintf(format, args...))
}

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *parser) next() string { t := p.peek(); p.pos++; return t }

func (p *parser) parseOr() (node, error) {
	n, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for {
		switch p.peek() {
		case "and", "&&":
			p.next()
			m, err := p.parseUnary()
			if err != nil {
				return nil, err
			}
			n = and(n, m)
		case "or", "||":
			p.next()
			m, err := p.parseUnary()
			if err != nil {
				return nil, err
			}
			n = or(n, m)
		default:
			return n, nil
		}
	}
}

func (p *parser) parseUnary() (node, error) {
	switch p.peek() {
	case "not", "!":
		p.next()
		n, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return not(n), nil
	case "(":
		p.next()
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.next() != ")" {
			return nil, p.errorf("a ( is not closed")
		}
		return n, nil
	case "":
		return nil, p.errorf("it ends where a primitive should come")
	}
	return p.parsePrimitive()
}

var protoNums = map[string]uint32{"tcp": 6, "udp": 17, "icmp": 1, "icmp6": 58, "sctp": 132}

func (p *parser) parsePrimitive() (node, error) {
	if p.peek() == "vlan" {
		return p.primitive() // it shifts itself, and what follows
	}
	shift := p.shift
	n, err := p.primitive()
	if err != nil {
		return nil, err
	}
	return shifted(n, shift), nil
}

func (p *parser) primitive() (node, error) {
	q := qual{}
	for {
		switch t := p.peek(); t {
		case "tcp", "udp", "sctp", "icmp", "icmp6", "ip", "ip6", "arp", "rarp":
			if p.pos+1 < len(p.toks) && p.toks[p.pos+1] == "[" {
				return p.parseByteTest()
			}
			p.next()
			q.proto = t
			continue
		case "src", "dst":
			p.next()
			q.dir = t
			if p.peek() == "or" || p.peek() == "and" {
				return nil, p.errorf("%q %q: say src or dst, not both in one primitive", t, p.peek())
			}
			continue
		case "host", "net", "port", "portrange":
			p.next()
			q.kind = t
		case "vlan":
			if q != (qual{}) {
				return nil, p.errorf("vlan takes no qualifiers")
			}
			p.next()
			id := -1
			if v := p.peek(); v != "" && v[0] >= '0' && v[0] <= '9' {
				n, err := strconv.ParseUint(v, 10, 16)
				if err != nil || n > 4095 {
					return nil, p.errorf("vlan %q: an ID is 0-4095", v)
				}
				p.next()
				id = int(n)
			}
			p.usesVLAN = true
			p.last = nil
			if p.live && !p.outer {
				// Linux has moved the outer tag beside the packet.
				p.outer = true
				return ancillaryVLAN(id), nil
			}
			// As tcpdump: every test after the first vlan reads the
			// packet 4 bytes on, past the tag.
			n := shifted(vlan(id), p.shift)
			p.shift += 4
			return n, nil
		case "ether", "mpls", "pppoes", "gateway", "broadcast", "multicast", "less", "greater", "len":
			return nil, p.errorf("%q is not supported yet: netkit takes the common part of tcpdump's language", t)
		}
		break
	}
	if q.kind == "" {
		v := p.peek()
		if v == "" || v == ")" || v == "and" || v == "or" || v == "&&" || v == "||" {
			if q.proto == "" && q.dir == "" {
				return nil, p.errorf("a primitive is missing")
			}
			if q.dir != "" {
				return nil, p.errorf("%q needs host, net, port or an address", q.dir)
			}
			p.last = nil
			switch q.proto {
			case "ip":
				return ether(etherIPv4), nil
			case "ip6":
				return ether(etherIPv6), nil
			case "arp":
				return ether(etherARP), nil
			case "rarp":
				return ether(etherRARP), nil
			}
			return proto(protoNums[q.proto]), nil
		}
		// A bare value: the qualifiers of the primitive before it, or
		// host when it is an address.
		if p.last != nil && q.proto == "" && q.dir == "" {
			q = *p.last
		} else if _, err := netip.ParseAddr(v); err == nil {
			q.kind = "host"
		} else {
			return nil, p.errorf("%q is not a primitive (host, net, port, portrange, tcp, udp, ...)", v)
		}
	}
	p.last = &q
	return p.value(q, p.next())
}

func (p *parser) value(q qual, v string) (node, error) {
	switch q.kind {
	case "host", "net":
		var pre netip.Prefix
		var err error
		if q.kind == "host" {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil {
				return nil, p.errorf("host %q: an IPv4 or IPv6 address (names are not looked up)", v)
			}
			pre = netip.PrefixFrom(a, a.BitLen())
		} else if pre, err = netip.ParsePrefix(v); err != nil {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil {
				return nil, p.errorf("net %q: a prefix such as 192.0.2.0/24", v)
			}
			pre = netip.PrefixFrom(a, a.BitLen())
		}
		if pre.Masked() != pre {
			return nil, p.errorf("net %q has host bits set; the network is %s", v, pre.Masked())
		}
		n := hostOrNet(q.dir, pre)
		switch q.proto {
		case "", "ip", "ip6":
			if q.proto == "ip" && !pre.Addr().Is4() || q.proto == "ip6" && pre.Addr().Is4() {
				return nil, p.errorf("%s with %s", q.proto, v)
			}
			if q.proto == "ip" {
				n = and(ether(etherIPv4), n)
			}
			return n, nil
		case "arp", "rarp":
			return nil, p.errorf("%s host is not supported yet", q.proto)
		}
		return and(n, proto(protoNums[q.proto])), nil
	case "port", "portrange":
		lo, hi, err := parsePorts(v, q.kind == "portrange")
		if err != nil {
			return nil, p.errorf("%s", err)
		}
		protos := []uint32{132, 6, 17}
		if q.proto != "" {
			n, ok := protoNums[q.proto]
			if !ok || n == 1 || n == 58 {
				return nil, p.errorf("%s has no ports", q.proto)
			}
			protos = []uint32{n}
		}
		return ports(q.dir, protos, lo, hi), nil
	}
	return nil, p.errorf("%q", v)
}

func parsePorts(v string, rng bool) (uint32, uint32, error) {
	one := func(s string) (uint32, error) {
		n, err := strconv.ParseUint(s, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("port %q: a number from 0 to 65535 (names are not looked up)", s)
		}
		return uint32(n), nil
	}
	if !rng {
		n, err := one(v)
		return n, n, err
	}
	a, b, ok := strings.Cut(v, "-")
	if !ok {
		return 0, 0, fmt.Errorf("portrange %q: want LOW-HIGH", v)
	}
	lo, err := one(a)
	if err != nil {
		return 0, 0, err
	}
	hi, err := one(b)
	if err != nil {
		return 0, 0, err
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return lo, hi, nil
}

var byteNames = map[string]uint32{"tcpflags": 13, "icmptype": 0, "icmpcode": 1,
	"tcp-fin": 1, "tcp-syn": 2, "tcp-rst": 4, "tcp-push": 8, "tcp-ack": 16, "tcp-urg": 32, "tcp-ece": 64, "tcp-cwr": 128,
	"icmp-echoreply": 0, "icmp-unreach": 3, "icmp-echo": 8, "icmp-timxceed": 11}

// parseByteTest reads proto[off(:size)] (& mask) op value.
func (p *parser) parseByteTest() (node, error) {
	pr := p.next()
	p.next() // [
	off, err := p.number()
	if err != nil {
		return nil, err
	}
	size := 1
	if p.peek() == ":" {
		p.next()
		s := p.next()
		switch s {
		case "1", "2", "4":
			size, _ = strconv.Atoi(s)
		default:
			return nil, p.errorf("size %q: 1, 2 or 4", s)
		}
	}
	if p.next() != "]" {
		return nil, p.errorf("%s[...] is not closed", pr)
	}
	mask := uint32(0xffffffff)
	if p.peek() == "&" {
		p.next()
		if mask, err = p.number(); err != nil {
			return nil, err
		}
	}
	op := p.next()
	val, err := p.number()
	if err != nil {
		return nil, err
	}
	var base node
	var ld func() bpf.Instruction
	switch pr {
	case "ip":
		base, ld = ether(etherIPv4), func() bpf.Instruction { return load(14+off, size) }
	case "tcp", "udp", "icmp", "sctp":
		msh := func(c *gen, t, f int) { c.emit(bpf.LoadMemShift{Off: 14}); c.jmp(t) }
		base = and(and(ipProto(protoNums[pr]), notFragment()), msh)
		ld = func() bpf.Instruction { return bpf.LoadIndirect{Off: 14 + off, Size: size} }
	default:
		return nil, p.errorf("%s[...] is not supported yet", pr)
	}
	test := func(c *gen, t, f int) {
		c.emit(ld())
		if mask != 0xffffffff {
			c.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: mask})
		}
		switch op {
		case "=", "==":
			c.test(bpf.JumpEqual, val, t, f)
		case "!=":
			c.test(bpf.JumpEqual, val, f, t)
		case ">":
			c.test(bpf.JumpGreaterThan, val, t, f)
		case ">=":
			c.test(bpf.JumpGreaterOrEqual, val, t, f)
		case "<":
			c.test(bpf.JumpGreaterOrEqual, val, f, t)
		case "<=":
			c.test(bpf.JumpGreaterThan, val, f, t)
		}
	}
	switch op {
	case "=", "==", "!=", ">", ">=", "<", "<=":
	default:
		return nil, p.errorf("%q: a comparison (=, !=, <, <=, >, >=)", op)
	}
	p.last = nil
	return and(base, test), nil
}

// number reads a number, a named constant, or a parenthesised | of them.
func (p *parser) number() (uint32, error) {
	t := p.next()
	if t == "(" {
		var v uint32
		for {
			n, err := p.number()
			if err != nil {
				return 0, err
			}
			v |= n
			switch p.next() {
			case "|":
				continue
			case ")":
				return v, nil
			default:
				return 0, p.errorf("in ( ): constants joined with |")
			}
		}
	}
	if v, ok := byteNames[t]; ok {
		return v, nil
	}
	n, err := strconv.ParseUint(t, 0, 32)
	if err != nil {
		return 0, p.errorf("%q is not a number", t)
	}
	return uint32(n), nil
}

// Matches runs the filter on the packet's frame: Ethernet frames and
// Linux cooked ones (LINUX_SLL, what a capture on "any" writes); packets
// of other links do not match.
func (p *Packet) Matches(f *Filter) bool {
	switch p.Link {
	case layers.LinkTypeEthernet:
		return f.Match(p.data)
	case layers.LinkTypeLinuxSLL:
		f.sllOnce.Do(func() { f.sll, f.sllErr = f.ForLink(layers.LinkTypeLinuxSLL) })
		return f.sllErr == nil && f.sll.Match(p.data)
	}
	return false
}

// ForLink returns the program relocated for another link type, as
// libpcap compiles for it: LINUX_SLL frames carry a 16-byte header with
// the protocol at offset 14, so every load moves 2 bytes on. A test of
// the Ethernet header itself (not in the language yet) could not move.
func (f *Filter) ForLink(link layers.LinkType) (*Filter, error) {
	switch link {
	case layers.LinkTypeEthernet:
		return f, nil
	case layers.LinkTypeLinuxSLL:
		if f.vlan {
			return nil, fmt.Errorf("capture: filter %q: Linux cooked frames carry no VLAN tags (libpcap has no vlan for them either)", f.Expr)
		}
		return f.relocate(bpf.LoadAbsolute{Off: 14, Size: 2}, 2)
	}
	return nil, fmt.Errorf("capture: filter %q: link type %s is not Ethernet or Linux cooked", f.Expr, link)
}

// ForCookedSocket returns the program for a packet socket that hands the
// filter each packet from its network header (SOCK_DGRAM: Linux's "any",
// and interfaces without Ethernet framing): the link's protocol comes
// from the kernel's ancillary load and every other load moves 14 bytes
// back, as libpcap fixes its programs up for such sockets.
func (f *Filter) ForCookedSocket() (*Filter, error) {
	return f.relocate(bpf.LoadExtension{Num: bpf.ExtProto}, -14)
}

// relocate replaces the load of the Ethernet type (offset 12) with
// etherType and moves every load past the Ethernet header by shift.
func (f *Filter) relocate(etherType bpf.Instruction, shift int) (*Filter, error) {
	out := make([]bpf.Instruction, len(f.Program))
	move := func(off uint32) (uint32, error) {
		if off < 14 {
			return 0, fmt.Errorf("capture: filter %q reads the Ethernet header at offset %d, which another link does not have", f.Expr, off)
		}
		return uint32(int(off) + shift), nil
	}
	for i, ins := range f.Program {
		var err error
		switch in := ins.(type) {
		case bpf.LoadAbsolute:
			if in.Off == 12 && in.Size == 2 {
				out[i] = etherType
				continue
			}
			in.Off, err = move(in.Off)
			out[i] = in
		case bpf.LoadIndirect:
			in.Off, err = move(in.Off)
			out[i] = in
		case bpf.LoadMemShift:
			in.Off, err = move(in.Off)
			out[i] = in
		default:
			out[i] = ins
		}
		if err != nil {
			return nil, err
		}
	}
	return &Filter{Expr: f.Expr, Program: out, vlan: f.vlan}, nil
}
