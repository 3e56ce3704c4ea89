package gateway

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// Config is a gateway's configuration, as a TOML file declares it (see
// docs/gateway.md for a complete example).
type Config struct {
	// Default is what happens to a flow that no rule matches. If the
	// file does not say, Deny (and Check reports it).
	Default Action `toml:"default"`
	// Admin is the Unix socket of the admin endpoint (status, reload).
	// If empty, the command line's choice.
	Admin string `toml:"admin"`
	// Timezone is the zone of the rules' time windows, such as UTC or
	// Europe/Berlin. If empty, the gateway's local time.
	Timezone string `toml:"timezone"`
	// Timeouts are the flow table's.
	Timeouts Timeouts `toml:"timeouts"`
	// Forwards are the ports the gateway listens on and where each
	// sends its flows.
	Forwards []Forward `toml:"forward"`
	// Rules are the filter, tried in order; the first that matches
	// decides.
	Rules []Rule `toml:"rule"`

	// File is the name the configuration was read from, for messages.
	File string `toml:"-"`
	// HasDefault reports whether the file said what the default is.
	HasDefault bool `toml:"-"`
	// DefaultPos is where it did.
	DefaultPos Pos `toml:"-"`
	loc        *time.Location
}

// Timeouts are how long the flow table keeps an idle flow. Their
// defaults follow RFC 4787 (UDP) and RFC 5382 (TCP).
type Timeouts struct {
	// UDP forgets a UDP mapping with no datagram either way for this
	// long. If zero, 5m (RFC 4787 asks at least 2m).
	UDP Duration `toml:"udp"`
	// TCPEstablished ends an established connection idle this long. If
	// zero, 2h4m (RFC 5382's minimum).
	TCPEstablished Duration `toml:"tcp_established"`
	// TCPTransitory ends a connection idle this long once one side has
	// closed. If zero, 4m (RFC 5382).
	TCPTransitory Duration `toml:"tcp_transitory"`
	// Connect gives up connecting to a target after this long. If zero,
	// 10s.
	Connect Duration `toml:"connect"`
}

// Default timeouts.
const (
	DefaultUDPTimeout        = 5 * time.Minute
	DefaultTCPEstablished    = 2*time.Hour + 4*time.Minute
	DefaultTCPTransitory     = 4 * time.Minute
	DefaultConnectTimeout    = 10 * time.Second
	DefaultMappingsPerSource = 256
)

func (t Timeouts) udp() time.Duration { return cmp.Or(t.UDP.Duration, DefaultUDPTimeout) }
func (t Timeouts) tcpEst() time.Duration {
	return cmp.Or(t.TCPEstablished.Duration, DefaultTCPEstablished)
}
func (t Timeouts) tcpTrans() time.Duration {
	return cmp.Or(t.TCPTransitory.Duration, DefaultTCPTransitory)
}
func (t Timeouts) connect() time.Duration { return cmp.Or(t.Connect.Duration, DefaultConnectTimeout) }

// Forward is a port forward (DNAT): flows to Listen go to one of To.
type Forward struct {
	// Name names the forward in logs and status. If empty, its
	// protocol and listen address.
	Name string `toml:"name"`
	// Proto is tcp or udp.
	Proto Proto `toml:"proto"`
	// Listen is the public address and port; 0.0.0.0 or :: for every
	// address.
	Listen AddrPort `toml:"listen"`
	// To are the targets; with more than one, Balance picks.
	To []AddrPort `toml:"to"`
	// Balance is round-robin (the default) or least-conn.
	Balance string `toml:"balance"`
	// ProxyV2 sends the client's address to the target in a PROXY
	// protocol v2 header before the client's bytes (TCP only). The
	// connection to the target comes from the gateway's address either
	// way (masquerade).
	ProxyV2 bool `toml:"proxy_v2"`
	// HealthInterval, if set, connects to each TCP target this often and
	// sends no flow to one that did not answer the last time.
	HealthInterval Duration `toml:"health_interval"`
	// MaxConns caps the forward's flows at once. If zero, no cap.
	MaxConns int `toml:"max_conns"`
	// MaxConnsPerSource caps one source address's flows at once. If
	// zero, no cap.
	MaxConnsPerSource int `toml:"max_conns_per_source"`
	// Rate caps one source address's new flows per second (with Burst).
	// If zero, no cap.
	Rate float64 `toml:"rate"`
	// Burst is how many new flows a source may open at once under Rate.
	// If zero, max(1, Rate).
	Burst int `toml:"burst"`
	// MaxMappingsPerSource caps one source address's UDP mappings, each
	// a socket, so that a client using a new port per query cannot use
	// up the gateway's sockets. If zero, 256.
	MaxMappingsPerSource int `toml:"max_mappings_per_source"`

	Pos Pos `toml:"-"`
}

// String names the forward.
func (f *Forward) String() string {
	if f.Name != "" {
		return f.Name
	}
	return f.Proto.String() + " " + f.Listen.String()
}

// Rule is one filter rule. An empty field matches everything.
type Rule struct {
	// Name names the rule in logs, status and explanations.
	Name string `toml:"name"`
	// Action is allow, deny or reject.
	Action Action `toml:"action"`
	// Proto is tcp, udp or any (the default).
	Proto Proto `toml:"proto"`
	// Source are the source prefixes; none is every address.
	Source []Prefix `toml:"source"`
	// Port is the set of destination ports, as the flow arrives at the
	// gateway (before translation): "22", "8000-8100", "80,443".
	Port Ports `toml:"port"`
	// Time is a daily window in which the rule applies.
	Time Window `toml:"time"`
	// Log logs every flow the rule matches (denials are always logged).
	Log bool `toml:"log"`

	Pos Pos `toml:"-"`
	// hasAction reports whether the file gave an action.
	hasAction bool
}

// String describes the rule as nftables would write it.
func (r *Rule) String() string {
	var b strings.Builder
	b.WriteString(r.Action.String())
	if r.Proto != AnyProto {
		b.WriteString(" " + r.Proto.String())
	}
	if len(r.Source) > 0 {
		b.WriteString(" from ")
		for i, p := range r.Source {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(p.String())
		}
	}
	if !r.Port.IsAny() {
		b.WriteString(" port " + r.Port.String())
	}
	if r.Time.IsSet() {
		b.WriteString(" time " + r.Time.String())
	}
	return b.String()
}

// Pos is a place in a configuration file.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// ConfigError is a configuration that does not parse or does not hold
// together. Its message names the file, line and column, and Excerpt
// shows the line with a caret under the fault.
type ConfigError struct {
	Pos     Pos
	Msg     string
	Excerpt string
}

func (e *ConfigError) Error() string {
	if e.Excerpt == "" {
		return fmt.Sprintf("gateway: %s: %s", e.Pos, e.Msg)
	}
	return fmt.Sprintf("gateway: %s: %s\n%s", e.Pos, e.Msg, e.Excerpt)
}

// Load reads and parses the configuration file name.
func Load(name string) (*Config, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &ConfigError{Pos: Pos{File: name}, Msg: "cannot read it: " + err.Error()}
	}
	return Parse(name, data)
}

// Parse parses a configuration strictly: an unknown key, a value of the
// wrong type or form, a forward without a target, a rule without an
// action are errors (*ConfigError) with the line and column.
func Parse(name string, data []byte) (*Config, error) {
	c := &Config{File: name}
	d := toml.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(c); err != nil {
		return nil, decodeError(name, err)
	}
	pos, err := positions(data)
	if err != nil {
		return nil, decodeError(name, err)
	}
	at := func(p Pos) Pos { p.File = name; return p }
	if p, ok := pos.top["default"]; ok {
		c.HasDefault, c.DefaultPos = true, at(p)
	}
	for i := range c.Forwards {
		c.Forwards[i].Pos = at(pos.table("forward", i))
	}
	for i := range c.Rules {
		c.Rules[i].Pos = at(pos.table("rule", i))
		c.Rules[i].hasAction = pos.has("rule", i, "action")
	}
	if err := c.validate(data, pos); err != nil {
		return nil, err
	}
	return c, nil
}

func decodeError(name string, err error) error {
	if de, ok := errors.AsType[*toml.DecodeError](err); ok {
		line, col := de.Position()
		// go-toml has no accessor for the bare message: its Error is
		// "toml: " and the message.
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if k := de.Key(); len(k) > 0 {
			msg = fmt.Sprintf("%s: %s", strings.Join(k, "."), msg)
		}
		return &ConfigError{Pos: Pos{File: name, Line: line, Col: col}, Msg: msg, Excerpt: excerptOf(de.String())}
	}
	if se, ok := errors.AsType[*toml.StrictMissingError](err); ok && len(se.Errors) > 0 {
		return decodeError(name, &se.Errors[0])
	}
	return &ConfigError{Pos: Pos{File: name}, Msg: err.Error()}
}

// excerptOf keeps the lines of go-toml's context that show the fault.
func excerptOf(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return strings.Join(lines, "\n")
}

func (c *Config) validate(data []byte, pos *posIndex) error {
	fail := func(p Pos, format string, args ...any) error {
		return &ConfigError{Pos: p, Msg: fmt.Sprintf(format, args...), Excerpt: caret(data, p)}
	}
	c.loc = time.Local
	if c.Timezone != "" {
		loc, err := time.LoadLocation(c.Timezone)
		if err != nil {
			return fail(at(c.File, pos.top["timezone"]), "timezone %q: not a zone this system knows", c.Timezone)
		}
		c.loc = loc
	}
	names := map[string]bool{}
	for i := range c.Forwards {
		f := &c.Forwards[i]
		key := func(k string) Pos { return at(c.File, pos.key("forward", i, k, f.Pos)) }
		switch {
		case f.Proto == AnyProto:
			return fail(key("proto"), "forward %d: proto must be tcp or udp", i+1)
		case !f.Listen.IsValid():
			return fail(f.Pos, "forward %d: listen is missing (the public ADDRESS:PORT)", i+1)
		case len(f.To) == 0:
			return fail(f.Pos, "forward %d: to is missing (one or more ADDRESS:PORT targets)", i+1)
		case f.Balance != "" && f.Balance != "round-robin" && f.Balance != "least-conn":
			return fail(key("balance"), "forward %d: balance %q: want round-robin or least-conn", i+1, f.Balance)
		case f.ProxyV2 && f.Proto != TCP:
			return fail(key("proxy_v2"), "forward %d: proxy_v2 is for tcp forwards (PROXY v2 over UDP has no peer to read it)", i+1)
		case f.HealthInterval.Duration > 0 && f.Proto != TCP:
			return fail(key("health_interval"), "forward %d: health checks connect, so they are for tcp forwards", i+1)
		case f.MaxConns < 0 || f.MaxConnsPerSource < 0 || f.Burst < 0 || f.MaxMappingsPerSource < 0 || f.Rate < 0:
			return fail(f.Pos, "forward %d: limits may not be negative", i+1)
		}
		for _, t := range f.To {
			if t.Addr().IsUnspecified() || t.Port() == 0 {
				return fail(key("to"), "forward %d: target %s: an unspecified address or port 0 cannot be connected to", i+1, t)
			}
		}
		if f.Name != "" {
			if names[f.Name] {
				return fail(key("name"), "forward %d: the name %q is taken by an earlier forward", i+1, f.Name)
			}
			names[f.Name] = true
		}
	}
	for i := range c.Rules {
		if !c.Rules[i].hasAction {
			return fail(c.Rules[i].Pos, "rule %d: action is missing (allow, deny or reject)", i+1)
		}
	}
	return nil
}

// Location is the zone of the rules' time windows.
func (c *Config) Location() *time.Location {
	if c.loc == nil {
		return time.Local
	}
	return c.loc
}

func at(file string, p Pos) Pos { p.File = file; return p }

// caret shows line p.Line of data with a caret under column p.Col.
func caret(data []byte, p Pos) string {
	if p.Line == 0 {
		return ""
	}
	lines := strings.Split(string(data), "\n")
	if p.Line > len(lines) {
		return ""
	}
	prefix := fmt.Sprintf("%d| ", p.Line)
	return prefix + lines[p.Line-1] + "\n" + strings.Repeat(" ", len(prefix)+max(p.Col-1, 0)) + "^"
}

// posIndex is where the file's tables and keys are.
type posIndex struct {
	top    map[string]Pos
	tables map[string][]tablePos // by array name: forward, rule
}

type tablePos struct {
	at   Pos
	keys map[string]Pos
}

func (x *posIndex) table(name string, i int) Pos {
	if ts := x.tables[name]; i < len(ts) {
		return ts[i].at
	}
	return Pos{}
}

func (x *posIndex) has(name string, i int, key string) bool {
	ts := x.tables[name]
	if i >= len(ts) {
		return false
	}
	_, ok := ts[i].keys[key]
	return ok
}

func (x *posIndex) key(name string, i int, key string, def Pos) Pos {
	if ts := x.tables[name]; i < len(ts) {
		if p, ok := ts[i].keys[key]; ok {
			return p
		}
	}
	return def
}

// positions finds each [[forward]] and [[rule]] (or inline table in a
// forward = [...] or rule = [...] array) and the keys in each, with the
// parser go-toml's decoder uses.
func positions(data []byte) (*posIndex, error) {
	x := &posIndex{top: map[string]Pos{}, tables: map[string][]tablePos{}}
	var p unstable.Parser
	p.Reset(data)
	posOf := func(n *unstable.Node) Pos {
		r := n.Raw
		if r.Length == 0 && len(n.Data) > 0 {
			r = p.Range(n.Data)
		}
		s := p.Shape(r)
		return Pos{Line: s.Start.Line, Col: s.Start.Column}
	}
	keyOf := func(n *unstable.Node) (string, *unstable.Node) {
		it := n.Key()
		var parts []string
		var first *unstable.Node
		for it.Next() {
			k := it.Node()
			if first == nil {
				first = k
			}
			parts = append(parts, string(k.Data))
		}
		return strings.Join(parts, "."), first
	}
	var cur *tablePos // the array table being filled, if any
	section := ""
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.ArrayTable:
			name, k := keyOf(e)
			section = name
			x.tables[name] = append(x.tables[name], tablePos{at: posOf(k), keys: map[string]Pos{}})
			cur = &x.tables[name][len(x.tables[name])-1]
			cur.at.Col = max(cur.at.Col-2, 1) // the [[ before the name
		case unstable.Table:
			name, _ := keyOf(e)
			section, cur = name, nil
		case unstable.KeyValue:
			name, k := keyOf(e)
			if cur != nil {
				cur.keys[name] = posOf(k)
				continue
			}
			if section == "" {
				x.top[name] = posOf(k)
				if v := e.Value(); v.Kind == unstable.Array && (name == "forward" || name == "rule") {
					it := v.Children()
					for it.Next() {
						t := it.Node()
						tp := tablePos{at: posOf(t), keys: map[string]Pos{}}
						if t.Kind == unstable.InlineTable {
							kv := t.Children()
							for kv.Next() {
								kn, kk := keyOf(kv.Node())
								tp.keys[kn] = posOf(kk)
							}
						}
						x.tables[name] = append(x.tables[name], tp)
					}
				}
			}
		}
	}
	return x, p.Error()
}

// Listens reports whether the forward's listen address takes flows to
// dst (an unspecified listen address takes every address of its family;
// :: takes IPv4 as well, as a dual-stack socket does).
func (f *Forward) Listens(proto Proto, dst netip.AddrPort) bool {
	if proto != f.Proto || dst.Port() != f.Listen.Port() {
		return false
	}
	l, d := f.Listen.Addr().Unmap(), dst.Addr().Unmap()
	switch {
	case l.IsUnspecified() && l.Is6():
		return true
	case l.IsUnspecified():
		return d.Is4()
	}
	return l == d
}
