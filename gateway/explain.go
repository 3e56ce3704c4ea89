package gateway

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Explanation is what the gateway would do with a flow, and why: every
// rule tried, the verdict, and the translation applied.
type Explanation struct {
	Flow Flow
	// Forward is the forward that listens where the flow goes, or nil
	// when none does (the gateway would not even accept it).
	Forward *Forward
	Tries   []Try
	Verdict Verdict
	// Via is the gateway's own address towards the first target, which
	// the target sees as the source (masquerade); invalid when this host
	// has no route to it.
	Via netip.Addr

	rules []Rule
}

// Explain says what the gateway would do with f at time now.
func (c *Config) Explain(f Flow, now time.Time) Explanation {
	rs := NewRuleset(c.Rules, c.Default, c.Location())
	tries, v := rs.Explain(f, now)
	e := Explanation{Flow: f, Tries: tries, Verdict: v, rules: c.Rules}
	for i := range c.Forwards {
		if c.Forwards[i].Listens(f.Proto, f.Dst) {
			e.Forward = &c.Forwards[i]
			break
		}
	}
	if e.Forward != nil && v.Action == Allow {
		e.Via = routeSource(e.Forward.To[0].AddrPort)
	}
	return e
}

// routeSource asks the kernel which of this host's addresses it would
// send from to reach dst: a UDP socket connected to dst, which sends
// nothing.
func routeSource(dst netip.AddrPort) netip.Addr {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(dst))
	if err != nil {
		return netip.Addr{}
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
}

// WriteText writes the explanation as `netkit gateway explain` prints it:
// each rule tried and why it did or did not match, the verdict, and the
// translation.
func (e *Explanation) WriteText(w io.Writer) error {
	rules := e.rules
	var b strings.Builder
	fmt.Fprintf(&b, "flow %s\n", e.Flow)
	if e.Forward == nil {
		fmt.Fprintf(&b, "  no forward listens on %s %s: the gateway would not take this flow\n", e.Flow.Proto, e.Flow.Dst)
	} else {
		fmt.Fprintf(&b, "  forward %s (%s)\n", e.Forward, e.Forward.Pos)
	}
	for _, t := range e.Tries {
		r := &rules[t.Rule]
		mark := "no match"
		switch {
		case t.Rule == e.Verdict.Rule:
			mark = "MATCH, decides"
		case t.Matched:
			mark = "match"
		}
		name := ""
		if r.Name != "" {
			name = fmt.Sprintf(" %q", r.Name)
		}
		fmt.Fprintf(&b, "  rule %d%s (%s) %s: %s: %s\n", t.Rule+1, name, r.Pos, r, mark, t.Why)
	}
	if e.Verdict.Rule < 0 {
		fmt.Fprintf(&b, "verdict: %s, by the default policy (no rule matched)\n", e.Verdict.Action)
	} else {
		fmt.Fprintf(&b, "verdict: %s, by rule %d\n", e.Verdict.Action, e.Verdict.Rule+1)
	}
	if t := e.Translation(); t != "" {
		fmt.Fprintf(&b, "translation: %s\n", t)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Translation describes the rewrite an allowed flow gets, or "" when the
// flow is not forwarded.
func (e *Explanation) Translation() string {
	if e.Forward == nil || e.Verdict.Action != Allow {
		return ""
	}
	f := e.Forward
	via := "the gateway's address towards it"
	if e.Via.IsValid() {
		via = e.Via.String()
	}
	targets := f.To[0].String()
	if len(f.To) > 1 {
		names := make([]string, len(f.To))
		for i, t := range f.To {
			names[i] = t.String()
		}
		bal := cmp.Or(f.Balance, "round-robin")
		targets = fmt.Sprintf("one of %s (%s)", strings.Join(names, ", "), bal)
	}
	src := fmt.Sprintf("source rewritten to %s (masquerade)", via)
	if f.ProxyV2 {
		src += fmt.Sprintf("; the client's %s passed on in a PROXY v2 header", e.Flow.Src)
	}
	return fmt.Sprintf("destination %s rewritten to %s; %s; replies translated back", e.Flow.Dst, targets, src)
}

// MarshalJSON writes the explanation for --json.
func (e Explanation) MarshalJSON() ([]byte, error) {
	type try struct {
		Rule    int    `json:"rule"`
		Name    string `json:"name,omitempty"`
		Pos     string `json:"pos"`
		Matched bool   `json:"matched"`
		Why     string `json:"why"`
	}
	out := struct {
		Flow        string `json:"flow"`
		Forward     string `json:"forward,omitempty"`
		Tries       []try  `json:"rules"`
		Verdict     string `json:"verdict"`
		Rule        int    `json:"rule"` // from 1; 0 for the default
		Translation string `json:"translation,omitempty"`
	}{Flow: e.Flow.String(), Tries: []try{}, Verdict: e.Verdict.Action.String(), Rule: e.Verdict.Rule + 1, Translation: e.Translation()}
	if e.Forward != nil {
		out.Forward = e.Forward.String()
	}
	for _, t := range e.Tries {
		out.Tries = append(out.Tries, try{Rule: t.Rule + 1, Name: e.rules[t.Rule].Name, Pos: e.rules[t.Rule].Pos.String(), Matched: t.Matched, Why: t.Why})
	}
	return json.Marshal(out)
}

// Explain says what the running gateway would do with f now, its
// forwards known by the addresses they are bound to (port 0 resolved).
func (g *Gateway) Explain(f Flow) Explanation {
	g.mu.Lock()
	c := *g.cfg
	c.Forwards = slices.Clone(c.Forwards)
	for i := range c.Forwards {
		if fw := g.fwds[forwardKey(&g.cfg.Forwards[i])]; fw != nil {
			c.Forwards[i].Listen.AddrPort = fw.bound
		}
	}
	g.mu.Unlock()
	return c.Explain(f, g.now())
}

// ParseTime reads the moment to explain a flow at, for rules with time
// windows: RFC 3339, or HH:MM on now's day in now's location; "" is now.
func ParseTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return now, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("15:04", s, now.Location()); err == nil {
		return time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), 0, 0, now.Location()), nil
	}
	return time.Time{}, fmt.Errorf("time %q: want RFC 3339 (2026-12-02T22:00:00Z) or HH:MM", s)
}
