package gateway

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Finding is something Check found wrong with a configuration that
// parses: it would run, but not as its author meant.
type Finding struct {
	Pos Pos
	// Kind is one of: shadowed, unreachable-forward, overlapping-listeners,
	// no-default, short-timeout, unused-rule.
	Kind string
	Msg  string
}

func (f Finding) String() string { return fmt.Sprintf("%s: %s: %s", f.Pos, f.Kind, f.Msg) }

// MarshalJSON writes the finding with its place as file, line and col.
func (f Finding) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		File string `json:"file"`
		Line int    `json:"line,omitempty"`
		Col  int    `json:"col,omitempty"`
		Kind string `json:"kind"`
		Msg  string `json:"msg"`
	}{f.Pos.File, f.Pos.Line, f.Pos.Col, f.Kind, f.Msg})
}

// Check analyses a configuration: rules fully covered by an earlier rule
// (they never decide anything), forwards that no rule allows, listeners
// that overlap, a missing explicit default, timeouts shorter than the
// RFCs' minimums, and rules that match no forward's port.
func Check(c *Config) []Finding {
	var out []Finding
	add := func(p Pos, kind, format string, args ...any) {
		out = append(out, Finding{Pos: p, Kind: kind, Msg: fmt.Sprintf(format, args...)})
	}
	if !c.HasDefault {
		add(Pos{File: c.File, Line: 1, Col: 1}, "no-default",
			`the file does not say what happens to a flow no rule matches, so it is denied; write default = "deny" (or "allow") to say so`)
	}
	for j := range c.Rules {
		for i := range j {
			if c.Rules[i].covers(&c.Rules[j]) {
				same := "and does the same, so it is redundant"
				if c.Rules[i].Action != c.Rules[j].Action {
					same = fmt.Sprintf("which %ss what it would %s", c.Rules[i].Action, c.Rules[j].Action)
				}
				add(c.Rules[j].Pos, "shadowed", "rule %d (%s) never decides: every flow it matches is matched first by rule %d (%s, %s), %s",
					j+1, &c.Rules[j], i+1, &c.Rules[i], c.Rules[i].Pos, same)
				break
			}
		}
	}
	for i := range c.Forwards {
		f := &c.Forwards[i]
		if why := c.unreachable(f); why != "" {
			add(f.Pos, "unreachable-forward", "forward %s (%s %s) %s", f, f.Proto, f.Listen, why)
		}
		for j := range i {
			g := &c.Forwards[j]
			if f.Proto == g.Proto && (g.Listens(f.Proto, f.Listen.AddrPort) || f.Listens(g.Proto, g.Listen.AddrPort)) {
				add(f.Pos, "overlapping-listeners", "forward %s listens on %s %s, which forward %s (%s) already takes",
					f, f.Proto, f.Listen, g, g.Pos)
			}
		}
	}
	for j := range c.Rules {
		r := &c.Rules[j]
		if len(c.Forwards) > 0 && !slices.ContainsFunc(c.Forwards, func(f Forward) bool {
			return r.Proto.matches(f.Proto) && r.Port.Contains(f.Listen.Port())
		}) {
			add(r.Pos, "unused-rule", "rule %d (%s) matches no forward's protocol and port, so no flow reaches it", j+1, r)
		}
	}
	short := func(d Duration, min time.Duration, key, rfc string) {
		if d.Duration > 0 && d.Duration < min {
			add(Pos{File: c.File}, "short-timeout", "timeouts.%s = %s is under %s's minimum of %s", key, d.Duration, rfc, min)
		}
	}
	short(c.Timeouts.UDP, 2*time.Minute, "udp", "RFC 4787")
	short(c.Timeouts.TCPEstablished, DefaultTCPEstablished, "tcp_established", "RFC 5382")
	short(c.Timeouts.TCPTransitory, DefaultTCPTransitory, "tcp_transitory", "RFC 5382")
	return out
}

// covers reports whether r matches every flow q matches, at every time.
func (r *Rule) covers(q *Rule) bool {
	if !r.Proto.covers(q.Proto) || !r.Port.covers(q.Port) {
		return false
	}
	if r.Time.IsSet() && r.Time != q.Time {
		return false
	}
	if len(r.Source) == 0 {
		return true
	}
	if len(q.Source) == 0 {
		return false
	}
	for _, qp := range q.Source {
		if !slices.ContainsFunc(r.Source, func(rp Prefix) bool {
			return rp.Addr().Is4() == qp.Addr().Is4() && rp.Bits() <= qp.Bits() && rp.Contains(qp.Addr())
		}) {
			return false
		}
	}
	return true
}

// unreachable says why no flow to f can be allowed, or "" if some can.
func (c *Config) unreachable(f *Forward) string {
	// The flows to f are those of its protocol and port; the first rule
	// that matches all of them decides them all.
	all := Rule{Proto: f.Proto, Port: PortsOf(PortRange{f.Listen.Port(), f.Listen.Port()})}
	for i := range c.Rules {
		r := &c.Rules[i]
		if !r.Proto.matches(f.Proto) || !r.Port.Contains(f.Listen.Port()) {
			continue
		}
		if r.Action == Allow {
			return ""
		}
		if r.covers(&all) {
			return fmt.Sprintf("is never reached: rule %d (%s, %s) %ss every flow to it", i+1, r, r.Pos, r.Action)
		}
	}
	if c.Default == Allow {
		return ""
	}
	return fmt.Sprintf("is allowed by no rule, and the default is %s: every flow to it is turned away", c.Default)
}
