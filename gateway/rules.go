package gateway

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gaissmai/bart"
)

// Flow is a flow as it arrives at the gateway, before translation.
type Flow struct {
	Proto    Proto
	Src, Dst netip.AddrPort
}

func (f Flow) String() string {
	return fmt.Sprintf("%s %s -> %s", f.Proto, f.Src, f.Dst)
}

// ParseFlow reads a flow as tcpdump and conntrack print one:
// "tcp 203.0.113.5:40000 -> 198.51.100.1:80" (the arrow may be left out).
func ParseFlow(s string) (Flow, error) {
	fields := strings.Fields(s)
	if len(fields) == 4 && fields[2] == "->" {
		fields = []string{fields[0], fields[1], fields[3]}
	}
	bad := func(why string) (Flow, error) {
		return Flow{}, fmt.Errorf("flow %q: %s; want PROTO SRC:PORT -> DST:PORT, such as tcp 203.0.113.5:40000 -> 198.51.100.1:80", s, why)
	}
	if len(fields) != 3 {
		return bad("wrong number of fields")
	}
	p, err := ParseProto(fields[0])
	if err != nil || p == AnyProto {
		return bad("the protocol must be tcp or udp")
	}
	src, err1 := netip.ParseAddrPort(fields[1])
	dst, err2 := netip.ParseAddrPort(fields[2])
	switch {
	case err1 != nil:
		return bad(fmt.Sprintf("source %q is not ADDRESS:PORT", fields[1]))
	case err2 != nil:
		return bad(fmt.Sprintf("destination %q is not ADDRESS:PORT", fields[2]))
	}
	return Flow{Proto: p, Src: src, Dst: dst}, nil
}

// Verdict is what the rules decided for a flow.
type Verdict struct {
	Action Action
	// Rule is the index of the rule that decided, or -1 for the default
	// policy.
	Rule int
}

// Ruleset is a configuration's rules compiled for lookups that cost
// O(log n) in the number of rules: the source address finds, in a
// prefix trie (github.com/gaissmai/bart), the most specific prefix that
// any rule names; that node and each less specific one above it holds a
// sorted table of port intervals, each naming the rules, in order, that
// cover it. The first rule that matches is the lowest index found on that
// chain. A Ruleset is safe for concurrent use.
type Ruleset struct {
	rules  []Rule
	def    Action
	loc    *time.Location
	v4, v6 bart.Table[*node]
	hits   []atomic.Uint64 // per rule, then the default last
}

type node struct {
	parent   *node
	tcp, udp segments
	// flat reports that tcp and udp hold the rules of every node above
	// as well, so that the lookup ends here: done where the chain holds
	// few rules, which keeps a lookup to one node's cache lines.
	flat bool
}

// flatten is the most rules a chain may hold for its bottom node to hold
// them all. A variable, so that tests can walk chains.
var flatten = 64

// segments split the ports 0-65535 into intervals: interval i starts at
// starts[i] and ends before starts[i+1]; first[i] is the first rule that
// covers it (-1 for none). When some rule has a time window, cands[i]
// holds the rules that cover interval i instead, ascending, up to and
// including the first without a window (no later rule can win over it).
type segments struct {
	segs  []seg
	cands [][]int32 // nil when no rule here has a time window
}

// seg is one interval: where it starts and its first rule, side by side
// so that a lookup touches one cache line.
type seg struct {
	start uint16
	first int32
}

// find returns the interval that holds port.
func (s *segments) find(port uint16) int {
	lo, hi := 0, len(s.segs)
	for hi-lo > 1 {
		mid := int(uint(lo+hi) >> 1)
		if s.segs[mid].start <= port {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

type ruleRanges struct {
	rule   int32
	ranges []PortRange
}

// NewRuleset compiles rules with the default policy def; time windows are
// read in loc (time.Local if nil).
func NewRuleset(rules []Rule, def Action, loc *time.Location) *Ruleset {
	if loc == nil {
		loc = time.Local
	}
	rs := &Ruleset{rules: slices.Clone(rules), def: def, loc: loc, hits: make([]atomic.Uint64, len(rules)+1)}
	type pending struct {
		pfx      netip.Prefix
		tcp, udp []ruleRanges
	}
	byPrefix := map[netip.Prefix]*pending{}
	var order []netip.Prefix
	every := []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
	for i, r := range rules {
		srcs := make([]netip.Prefix, 0, len(r.Source))
		for _, p := range r.Source {
			srcs = append(srcs, p.Prefix)
		}
		if len(srcs) == 0 {
			srcs = every
		}
		ranges := r.Port.ranges
		if len(ranges) == 0 {
			ranges = []PortRange{{0, math.MaxUint16}}
		}
		for _, p := range srcs {
			pd := byPrefix[p]
			if pd == nil {
				pd = &pending{pfx: p}
				byPrefix[p] = pd
				order = append(order, p)
			}
			rr := ruleRanges{int32(i), ranges}
			if r.Proto.matches(TCP) {
				pd.tcp = append(pd.tcp, rr)
			}
			if r.Proto.matches(UDP) {
				pd.udp = append(pd.udp, rr)
			}
		}
	}
	nodes := map[netip.Prefix]*node{}
	for _, p := range order {
		pd := byPrefix[p]
		n := &node{tcp: rs.segment(pd.tcp), udp: rs.segment(pd.udp)}
		nodes[p] = n
		rs.table(p.Addr()).Insert(p, n)
	}
	parents := map[netip.Prefix]netip.Prefix{}
	for p, n := range nodes {
		if p.Bits() == 0 {
			continue
		}
		up := netip.PrefixFrom(p.Addr(), p.Bits()-1).Masked()
		if pp, parent, ok := rs.table(p.Addr()).LookupPrefixLPM(up); ok {
			n.parent = parent
			parents[p] = pp
		}
	}
	for _, p := range order {
		var tcp, udp []ruleRanges
		for q, ok := p, true; ok; q, ok = parents[q] {
			tcp = append(tcp, byPrefix[q].tcp...)
			udp = append(udp, byPrefix[q].udp...)
			if len(tcp)+len(udp) > flatten {
				break
			}
		}
		if len(tcp)+len(udp) <= flatten {
			n := nodes[p]
			n.tcp, n.udp, n.flat = rs.segment(tcp), rs.segment(udp), true
		}
	}
	return rs
}

func (rs *Ruleset) table(a netip.Addr) *bart.Table[*node] {
	if a.Is4() {
		return &rs.v4
	}
	return &rs.v6
}

// segment builds the port intervals of one node's rules for one protocol.
func (rs *Ruleset) segment(rules []ruleRanges) segments {
	if len(rules) == 0 {
		return segments{}
	}
	type event struct {
		at   int // port, or 65536 past the last
		rule int32
		add  bool
	}
	var evs []event
	for _, rr := range rules {
		for _, r := range rr.ranges {
			evs = append(evs, event{int(r.Lo), rr.rule, true}, event{int(r.Hi) + 1, rr.rule, false})
		}
	}
	slices.SortFunc(evs, func(a, b event) int { return a.at - b.at })
	var s segments
	windows := slices.ContainsFunc(rules, func(rr ruleRanges) bool { return rs.rules[rr.rule].Time.IsSet() })
	var active []int32 // sorted
	for i := 0; i < len(evs); {
		at := evs[i].at
		for ; i < len(evs) && evs[i].at == at; i++ {
			e := evs[i]
			j, found := slices.BinarySearch(active, e.rule)
			switch {
			case e.add && !found:
				active = slices.Insert(active, j, e.rule)
			case !e.add && found:
				active = slices.Delete(active, j, j+1)
			}
		}
		if at > math.MaxUint16 {
			break
		}
		var cands []int32
		for _, r := range active {
			cands = append(cands, r)
			if !rs.rules[r].Time.IsSet() {
				break
			}
		}
		if n := len(s.segs); n == 0 && at > 0 {
			s.segs = append(s.segs, seg{0, -1})
			if windows {
				s.cands = append(s.cands, nil)
			}
		}
		first := int32(-1)
		if len(cands) > 0 {
			first = cands[0]
		}
		s.segs = append(s.segs, seg{uint16(at), first})
		if windows {
			s.cands = append(s.cands, cands)
		}
	}
	return s
}

// Match returns the verdict for f at time now: the first rule that
// matches, or the default policy.
func (rs *Ruleset) Match(f Flow, now time.Time) Verdict {
	src := f.Src.Addr().Unmap().WithZone("")
	n, _ := rs.table(src).Lookup(src)
	best := int32(math.MaxInt32)
	port := f.Dst.Port()
	var local time.Time
	for ; n != nil; n = n.parent {
		s := &n.udp
		if f.Proto == TCP {
			s = &n.tcp
		}
		if len(s.segs) == 0 {
			if n.flat {
				break
			}
			continue
		}
		i := s.find(port)
		if s.cands == nil {
			if c := s.segs[i].first; c >= 0 && c < best {
				best = c
			}
			if n.flat {
				break
			}
			continue
		}
		for _, c := range s.cands[i] {
			if c >= best {
				break
			}
			w := rs.rules[c].Time
			if w.IsSet() {
				if local.IsZero() {
					local = now.In(rs.loc)
				}
				if !w.Contains(local) {
					continue
				}
			}
			best = c
			break
		}
		if n.flat {
			break
		}
	}
	if best == math.MaxInt32 {
		return Verdict{Action: rs.def, Rule: -1}
	}
	return Verdict{Action: rs.rules[best].Action, Rule: int(best)}
}

// count records a verdict in the per-rule counters.
func (rs *Ruleset) count(v Verdict) {
	i := v.Rule
	if i < 0 {
		i = len(rs.rules)
	}
	rs.hits[i].Add(1)
}

// Hits returns how many flows each rule decided, and then the default.
func (rs *Ruleset) Hits() (rules []uint64, def uint64) {
	rules = make([]uint64, len(rs.rules))
	for i := range rules {
		rules[i] = rs.hits[i].Load()
	}
	return rules, rs.hits[len(rs.rules)].Load()
}

// Rules returns the rules, in order.
func (rs *Ruleset) Rules() []Rule { return slices.Clone(rs.rules) }

// Default returns the default policy.
func (rs *Ruleset) Default() Action { return rs.def }

// Try is one rule tried against a flow, as Explain reports it.
type Try struct {
	Rule    int
	Matched bool
	// Why says what matched, or the first thing that did not.
	Why string
}

// Explain tries every rule against f in order, saying why each matches
// or not, and returns the verdict, which is Match's.
func (rs *Ruleset) Explain(f Flow, now time.Time) ([]Try, Verdict) {
	var tries []Try
	v := Verdict{Action: rs.def, Rule: -1}
	decided := false
	for i := range rs.rules {
		ok, why := rs.rules[i].explain(f, now.In(rs.loc))
		tries = append(tries, Try{Rule: i, Matched: ok, Why: why})
		if ok && !decided {
			v, decided = Verdict{Action: rs.rules[i].Action, Rule: i}, true
		}
	}
	return tries, v
}

// explain says whether r matches f at local time t, and why.
func (r *Rule) explain(f Flow, t time.Time) (bool, string) {
	src := f.Src.Addr().Unmap().WithZone("")
	if !r.Proto.matches(f.Proto) {
		return false, fmt.Sprintf("protocol %s is not %s", f.Proto, r.Proto)
	}
	var why []string
	if r.Proto != AnyProto {
		why = append(why, "protocol "+f.Proto.String())
	}
	if len(r.Source) > 0 {
		in := slices.IndexFunc(r.Source, func(p Prefix) bool { return p.Contains(src) })
		if in < 0 {
			names := make([]string, len(r.Source))
			for i, p := range r.Source {
				names[i] = p.String()
			}
			return false, fmt.Sprintf("source %s is not in %s", src, strings.Join(names, ", "))
		}
		why = append(why, fmt.Sprintf("source %s in %s", src, r.Source[in]))
	}
	if !r.Port.IsAny() {
		if !r.Port.Contains(f.Dst.Port()) {
			return false, fmt.Sprintf("port %d is not in %s", f.Dst.Port(), r.Port)
		}
		why = append(why, fmt.Sprintf("port %d in %s", f.Dst.Port(), r.Port))
	}
	if r.Time.IsSet() {
		clock := t.Format("15:04")
		if !r.Time.Contains(t) {
			return false, fmt.Sprintf("%s is outside %s", clock, r.Time)
		}
		why = append(why, fmt.Sprintf("%s is inside %s", clock, r.Time))
	}
	if len(why) == 0 {
		return true, "matches every flow"
	}
	return true, strings.Join(why, ", ")
}

// Matches reports whether r matches f at time t (in the zone of the
// rule's time window).
func (r *Rule) Matches(f Flow, t time.Time) bool {
	src := f.Src.Addr().Unmap().WithZone("")
	return r.Proto.matches(f.Proto) &&
		(len(r.Source) == 0 || slices.ContainsFunc(r.Source, func(p Prefix) bool { return p.Contains(src) })) &&
		r.Port.Contains(f.Dst.Port()) && r.Time.Contains(t)
}

// matchLinear is Match the slow way, for tests: each rule in turn.
func (rs *Ruleset) matchLinear(f Flow, now time.Time) Verdict {
	local := now.In(rs.loc)
	for i := range rs.rules {
		if rs.rules[i].Matches(f, local) {
			return Verdict{Action: rs.rules[i].Action, Rule: i}
		}
	}
	return Verdict{Action: rs.def, Rule: -1}
}
