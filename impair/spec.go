package impair

import (
	"fmt"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
)

// Spec describes faults as text, as a command line or a configuration
// file gives them: "5%", "50M", "2s@10s". Faults turns it into the faults
// of a UDP Proxy, Toxics into the toxics of a TCP one. Fields are named
// after netkit impair's flags, and errors are *SpecError naming them.
type Spec struct {
	// UDP
	Loss, Correlation, GE       string
	Reorder, Duplicate, Corrupt string
	ReorderGap                  time.Duration
	Normal                      bool
	MTU                         int
	Down, Drops                 []string
	Queue                       string // with Rate
	Delay, Jitter               time.Duration
	Rate                        string // both: a bottleneck (UDP), bandwidth (TCP)
	Slice, Limit                string // TCP
	// Stall lets nothing through and closes the connection after this
	// long (TCP); StallForever lets nothing through and never closes.
	Stall                 time.Duration
	StallForever          bool
	ResetAfter, SlowClose time.Duration // TCP
	// Only is the direction the faults apply to: up (client to server),
	// down, or both (the default).
	Only string
}

// SpecError is a field of a Spec that does not parse or does not apply.
type SpecError struct {
	Field string // the flag's name: loss, rate, drop
	Err   error
}

func (e *SpecError) Error() string { return fmt.Sprintf("%s: %v", e.Field, e.Err) }
func (e *SpecError) Unwrap() error { return e.Err }

func specErr(field string, err error) error {
	if err == nil {
		return nil
	}
	return &SpecError{Field: field, Err: err}
}

type setField struct {
	name string
	set  bool
}

// firstSet names the first field that is set, in the order given, or "".
func firstSet(fs []setField) string {
	for _, f := range fs {
		if f.set {
			return f.name
		}
	}
	return ""
}

// directions returns whether the faults go up and down.
func (s *Spec) directions() (up, down bool, err error) {
	switch s.Only {
	case "", "both":
		return true, true, nil
	case "up":
		return true, false, nil
	case "down":
		return false, true, nil
	}
	return false, false, specErr("only", fmt.Errorf("%q: up, down or both", s.Only))
}

// Apply sets p's faults as s describes them: Up, Down or both, as Only
// says. TCP-only fields are an error.
func (s *Spec) Apply(p *Proxy) error {
	if name := firstSet([]setField{{"slice", s.Slice != ""}, {"limit", s.Limit != ""}, {"stall", s.Stall > 0 || s.StallForever},
		{"reset-after", s.ResetAfter > 0}, {"slow-close", s.SlowClose > 0}}); name != "" {
		return specErr(name, fmt.Errorf("applies to TCP proxies (tcp:// endpoints)"))
	}
	up, down, err := s.directions()
	if err != nil {
		return err
	}
	f, err := s.Faults()
	if err != nil {
		return err
	}
	p.Up, p.Down = Faults{}, Faults{}
	if up {
		p.Up = f
	}
	if down {
		p.Down = f
	}
	return nil
}

// Faults returns the faults s describes, for one direction of a UDP
// Proxy.
func (s *Spec) Faults() (Faults, error) {
	var f Faults
	for _, p := range []struct {
		name string
		s    string
		v    *float64
	}{{"loss", s.Loss, &f.Loss}, {"correlation", s.Correlation, &f.Correlation}, {"reorder", s.Reorder, &f.Reorder},
		{"duplicate", s.Duplicate, &f.Duplicate}, {"corrupt", s.Corrupt, &f.Corrupt}} {
		if p.s == "" {
			continue
		}
		v, err := ParseProbability(p.s)
		if err != nil {
			return f, specErr(p.name, err)
		}
		*p.v = v
	}
	f.Delay, f.Jitter, f.NormalJitter, f.ReorderGap, f.MTU = s.Delay, s.Jitter, s.Normal, s.ReorderGap, s.MTU
	for _, x := range []struct {
		name string
		v    int64
	}{{"delay", int64(s.Delay)}, {"jitter", int64(s.Jitter)}, {"reorder-gap", int64(s.ReorderGap)}, {"mtu", int64(s.MTU)}} {
		if x.v < 0 {
			return f, specErr(x.name, fmt.Errorf("may not be negative"))
		}
	}
	var err error
	if s.GE != "" {
		if f.GilbertElliott, err = ParseGilbertElliott(s.GE); err != nil {
			return f, specErr("ge", err)
		}
	}
	if s.Rate != "" {
		if f.Rate, err = ParseRate(s.Rate); err != nil {
			return f, specErr("rate", err)
		}
		if f.Queue, err = ParseSize(s.Queue); err != nil {
			return f, specErr("queue", err)
		}
	}
	for _, d := range s.Down {
		w, err := ParseWindow(d)
		if err != nil {
			return f, specErr("down", err)
		}
		f.Down = append(f.Down, w)
	}
	for _, d := range s.Drops {
		r, err := ParseRule(d)
		if err != nil {
			return f, specErr("drop", err)
		}
		f.Script = append(f.Script, r)
	}
	return f, nil
}

// Toxics returns the toxiproxy toxics s describes, for a TCP proxy: the
// delay and jitter as latency, the rate as bandwidth, the slicer,
// limit_data, timeout (Stall), reset_peer and slow_close, on the streams
// Only names. Fields that only a datagram path can show (loss,
// reordering and the like: over TCP the kernel resends) are an error.
func (s *Spec) Toxics() ([]Toxic, error) {
	up, down, err := s.directions()
	if err != nil {
		return nil, err
	}
	if name := firstSet([]setField{{"loss", s.Loss != ""}, {"correlation", s.Correlation != ""}, {"ge", s.GE != ""},
		{"reorder", s.Reorder != ""}, {"duplicate", s.Duplicate != ""}, {"corrupt", s.Corrupt != ""}, {"mtu", s.MTU != 0},
		{"down", len(s.Down) > 0}, {"drop", len(s.Drops) > 0}}); name != "" {
		return nil, specErr(name, fmt.Errorf("applies to UDP: over TCP the kernel resends what is lost, so it cannot be shown; use udp:// endpoints"))
	}
	var streams []string
	if up {
		streams = append(streams, "upstream")
	}
	if down {
		streams = append(streams, "downstream")
	}
	ms := func(d time.Duration) float64 { return float64(d.Milliseconds()) }
	var ts []Toxic
	add := func(typ string, attrs map[string]any) {
		for _, st := range streams {
			ts = append(ts, Toxic{Type: typ, Stream: st, Toxicity: 1, Attributes: attrs})
		}
	}
	if s.Delay > 0 || s.Jitter > 0 {
		add("latency", map[string]any{"latency": ms(s.Delay), "jitter": ms(s.Jitter)})
	}
	if s.Rate != "" {
		bps, err := ParseRate(s.Rate)
		if err != nil {
			return nil, specErr("rate", err)
		}
		add("bandwidth", map[string]any{"rate": max(float64(int64(bps/8000)), 1)})
	}
	for _, z := range []struct{ name, val string }{{"slice", s.Slice}, {"limit", s.Limit}} {
		if z.val == "" {
			continue
		}
		n, err := ParseSize(z.val)
		if err != nil {
			return nil, specErr(z.name, err)
		}
		if z.name == "slice" {
			add("slicer", map[string]any{"average_size": float64(n), "size_variation": float64(n / 2), "delay": 0.0})
		} else {
			add("limit_data", map[string]any{"bytes": float64(n)})
		}
	}
	for _, x := range []struct {
		set       bool
		typ, attr string
		d         time.Duration
	}{{s.Stall > 0 || s.StallForever, "timeout", "timeout", s.Stall}, {s.ResetAfter > 0, "reset_peer", "timeout", s.ResetAfter}, {s.SlowClose > 0, "slow_close", "delay", s.SlowClose}} {
		if x.set {
			add(x.typ, map[string]any{x.attr: ms(x.d)})
		}
	}
	for i := range ts {
		if err := ts[i].Check(); err != nil {
			return nil, err
		}
		ts[i].Name = ts[i].Type + "_" + ts[i].Stream
	}
	return ts, nil
}

// ParseRoute reads a route as LISTEN=TO, two udp:// endpoints.
func ParseRoute(s string) (Route, error) {
	l, t, ok := strings.Cut(s, "=")
	le, err1 := endpoint.Parse(l)
	te, err2 := endpoint.Parse(t)
	if !ok || err1 != nil || err2 != nil || !le.IsPacket() || !te.IsPacket() {
		return Route{}, fmt.Errorf("route %q: want LISTEN=TO, two udp:// endpoints", s)
	}
	return Route{Listen: le, To: te}, nil
}
