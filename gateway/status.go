package gateway

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/netkit-dev/netkit/relay"
)

// Status is a running gateway's configuration, counters and flow table,
// as `netkit gateway status` shows them.
type Status struct {
	File        string          `json:"file"`
	Loaded      time.Time       `json:"loaded"`
	Reloads     int             `json:"reloads"`
	Default     string          `json:"default"`
	DefaultHits uint64          `json:"default_hits"`
	Rules       []RuleStatus    `json:"rules"`
	Forwards    []ForwardStatus `json:"forwards"`
	Flows       []FlowInfo      `json:"flows"`
	Counters    Counters        `json:"counters"`
	// Goroutines and OpenFiles are the process's, so that a leak shows;
	// OpenFiles counts the pipes kept for splicing (IdlePipes, two
	// files each) too.
	Goroutines int `json:"goroutines"`
	OpenFiles  int `json:"open_files"`
	IdlePipes  int `json:"idle_pipes"`
}

// RuleStatus is a rule and how many flows it decided.
type RuleStatus struct {
	N      int    `json:"n"` // from 1
	Name   string `json:"name,omitempty"`
	Rule   string `json:"rule"`
	Action string `json:"action"`
	Pos    string `json:"pos"`
	Hits   uint64 `json:"hits"`
}

// ForwardStatus is a forward, where it listens and its targets.
type ForwardStatus struct {
	Name    string         `json:"name"`
	Proto   string         `json:"proto"`
	Listen  string         `json:"listen"` // as bound
	Targets []TargetStatus `json:"targets"`
}

// TargetStatus is a target, whether its last health check passed, and
// its flows now.
type TargetStatus struct {
	Addr   string `json:"addr"`
	Up     bool   `json:"up"`
	Active int64  `json:"active"`
}

// FlowInfo is one entry of the flow table: the flow as it came in, as it
// goes out, its state and what it moved each way. In is from the client,
// Out is back to it.
type FlowInfo struct {
	ID      uint64 `json:"id"`
	Proto   string `json:"proto"`
	Forward string `json:"forward"`
	Client  string `json:"client"` // in: client -> listen
	Listen  string `json:"listen"`
	Local   string `json:"local,omitempty"` // out: local -> target
	Target  string `json:"target,omitempty"`
	// State is connecting, established or half-closed (TCP), or
	// unreplied or replied (UDP).
	State string `json:"state"`
	// Rule is the rule that allowed the flow, from 1; 0 for the default.
	Rule       int     `json:"rule"`
	BytesIn    uint64  `json:"bytes_in"`
	BytesOut   uint64  `json:"bytes_out"`
	PacketsIn  uint64  `json:"packets_in"` // TCP: segments, from TCP_INFO
	PacketsOut uint64  `json:"packets_out"`
	AgeS       float64 `json:"age_s"`
	IdleS      float64 `json:"idle_s,omitempty"` // UDP
}

// Counters count flows since the gateway started.
type Counters struct {
	Opened       uint64 `json:"opened"`        // flows forwarded
	Closed       uint64 `json:"closed"`        // flows ended
	Denied       uint64 `json:"denied"`        // flows denied by a rule or the default
	Rejected     uint64 `json:"rejected"`      // flows rejected
	Limited      uint64 `json:"limited"`       // flows over a connection, mapping or rate limit
	DialFailed   uint64 `json:"dial_failed"`   // flows no target took
	ReloadClosed uint64 `json:"reload_closed"` // flows closed because a reload turned them away
	Dropped      uint64 `json:"dropped"`       // UDP datagrams not forwarded
}

// Status returns the gateway's state now.
func (g *Gateway) Status() Status {
	g.mu.Lock()
	cfg, loaded, reloads := g.cfg, g.loaded, g.reloads
	fwds := make([]*forward, 0, len(g.fwds))
	for i := range cfg.Forwards {
		if f := g.fwds[forwardKey(&cfg.Forwards[i])]; f != nil {
			fwds = append(fwds, f)
		}
	}
	g.mu.Unlock()
	rs := g.rules.Load()
	hits, defHits := rs.Hits()
	st := Status{File: cfg.File, Loaded: loaded, Reloads: reloads, Default: rs.def.String(), DefaultHits: defHits,
		Rules: []RuleStatus{}, Forwards: []ForwardStatus{}, Flows: []FlowInfo{}}
	for i, r := range rs.rules {
		st.Rules = append(st.Rules, RuleStatus{N: i + 1, Name: r.Name, Rule: r.String(), Action: r.Action.String(), Pos: r.Pos.String(), Hits: hits[i]})
	}
	for _, f := range fwds {
		fs := ForwardStatus{Name: f.name(), Proto: f.proto.String(), Listen: f.bound.String()}
		for _, t := range *f.tgts.Load() {
			fs.Targets = append(fs.Targets, TargetStatus{Addr: t.addr.String(), Up: !t.down.Load(), Active: t.active.Load()})
		}
		st.Forwards = append(st.Forwards, fs)
	}
	now := time.Now()
	for _, fl := range g.flows.snapshot() {
		fi := FlowInfo{ID: fl.id, Proto: fl.proto.String(), Forward: fl.fwd.name(), Client: fl.client.String(), Listen: fl.listen.String(),
			Rule: fl.rule + 1, AgeS: now.Sub(fl.started).Seconds()}
		if o := fl.out.Load(); o != nil {
			fi.Local, fi.Target = o.local.String(), o.target.String()
		}
		if fl.proto == TCP {
			fi.BytesIn, fi.BytesOut = uint64(fl.meter.AToB.Load()), uint64(fl.meter.BToA.Load())
			fi.PacketsIn, fi.PacketsOut = tcpSegments(fl.in)
			switch {
			case fl.connecting.Load():
				fi.State = "connecting"
			case fl.meter.Ended() > 0:
				fi.State = "half-closed"
			default:
				fi.State = "established"
			}
		} else {
			fi.BytesIn, fi.BytesOut = fl.bytesIn.Load(), fl.bytesOut.Load()
			fi.PacketsIn, fi.PacketsOut = fl.pktsIn.Load(), fl.pktsOut.Load()
			fi.IdleS = now.Sub(time.Unix(0, fl.last.Load())).Seconds()
			fi.State = "unreplied"
			if fi.PacketsOut > 0 {
				fi.State = "replied"
			}
		}
		st.Flows = append(st.Flows, fi)
	}
	s := &g.stats
	st.Counters = Counters{Opened: s.opened.Load(), Closed: s.closed.Load(), Denied: s.denied.Load(), Rejected: s.rejected.Load(),
		Limited: s.limited.Load(), DialFailed: s.dialFailed.Load(), ReloadClosed: s.reloadClosed.Load(), Dropped: s.dropped.Load()}
	st.Goroutines = runtime.NumGoroutine()
	st.IdlePipes = relay.IdlePipes()
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		st.OpenFiles = len(ents)
	}
	return st
}

// Addr returns where the forward named name (or, if unnamed, "PROTO
// LISTEN" as written) listens, with any port 0 resolved.
func (g *Gateway) Addr(name string) (addrPort string, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, f := range g.fwds {
		if f.name() == name {
			return f.bound.String(), true
		}
	}
	return "", false
}

// WriteText writes the status as `netkit gateway status` prints it.
func (st *Status) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "gateway %s, loaded %s, %d reloads; the default (%s) decided %d flows\n", st.File, st.Loaded.Format(time.RFC3339), st.Reloads, st.Default, st.DefaultHits)
	fmt.Fprintf(tw, "\nFORWARD\tPROTO\tLISTEN\tTARGETS\n")
	for _, f := range st.Forwards {
		ts := make([]string, len(f.Targets))
		for i, t := range f.Targets {
			state := "up"
			if !t.Up {
				state = "down"
			}
			ts[i] = fmt.Sprintf("%s (%s, %d flows)", t.Addr, state, t.Active)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Name, f.Proto, f.Listen, strings.Join(ts, ", "))
	}
	fmt.Fprintf(tw, "\nRULE\tHITS\tAT\tMATCHES\n")
	for _, r := range st.Rules {
		name := r.Rule
		if r.Name != "" {
			name = fmt.Sprintf("%q: %s", r.Name, r.Rule)
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\n", r.N, r.Hits, r.Pos, name)
	}
	fmt.Fprintf(tw, "\nID\tPROTO\tIN (CLIENT -> LISTEN)\tOUT (LOCAL -> TARGET)\tSTATE\tBYTES IN/OUT\tPACKETS IN/OUT\tAGE\n")
	for _, f := range st.Flows {
		fmt.Fprintf(tw, "%d\t%s\t%s -> %s\t%s -> %s\t%s\t%d/%d\t%d/%d\t%.1fs\n", f.ID, f.Proto, f.Client, f.Listen,
			cmp.Or(f.Local, "-"), cmp.Or(f.Target, "-"), f.State, f.BytesIn, f.BytesOut, f.PacketsIn, f.PacketsOut, f.AgeS)
	}
	c := st.Counters
	fmt.Fprintf(tw, "\nflows: %d open; %d opened, %d closed, %d denied, %d rejected, %d limited, %d found no target, %d closed by reload; %d datagrams dropped\n",
		len(st.Flows), c.Opened, c.Closed, c.Denied, c.Rejected, c.Limited, c.DialFailed, c.ReloadClosed, c.Dropped)
	return tw.Flush()
}
