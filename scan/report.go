package scan

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/netkit-dev/netkit/internal/fieldlines"
)

// PortReport is one port of a host that is not closed.
type PortReport struct {
	Port    uint16        `json:"port"`
	State   State         `json:"state"`
	Service string        `json:"service,omitempty"`
	Banner  string        `json:"banner,omitempty"`
	Reason  string        `json:"reason,omitempty"`
	RTT     time.Duration `json:"-"`
}

// HostReport is the result for one host: the ports that are not closed,
// in order, and counts.
type HostReport struct {
	Addr     netip.Addr   `json:"address"`
	Ports    []PortReport `json:"ports"`
	Closed   int          `json:"closed"`
	Filtered int          `json:"filtered"`
}

// Open counts the host's open ports.
func (h *HostReport) Open() int {
	n := 0
	for _, p := range h.Ports {
		if p.State == Open {
			n++
		}
	}
	return n
}

// Report gathers the results of a scan by host, as Config.OnResult
// delivers them. Build it with NewReport and pass its Add as OnResult (or
// call Add from there). Its methods are safe for concurrent use.
type Report struct {
	Hosts []*HostReport
	// Service, if set, names the service of a port ("ssh").
	Service func(port uint16) string

	mu     sync.Mutex
	byAddr map[netip.Addr]*HostReport
	states map[netip.AddrPort]State // kept only when asked for (Track)
}

// NewReport returns an empty report for addrs, in that order.
func NewReport(addrs []netip.Addr, service func(port uint16) string) *Report {
	r := &Report{Service: service, byAddr: make(map[netip.Addr]*HostReport, len(addrs))}
	for _, a := range addrs {
		h := &HostReport{Addr: a, Ports: []PortReport{}}
		r.byAddr[a] = h
		r.Hosts = append(r.Hosts, h)
	}
	return r
}

// Track keeps the state of every port, closed ones too, so that State can
// answer for any of them (a Policy needs that).
func (r *Report) Track() { r.states = map[netip.AddrPort]State{} }

// Add records a result and returns the port's entry, or nil for a closed
// port (those are only counted).
func (r *Report) Add(res Result) *PortReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.states != nil {
		r.states[netip.AddrPortFrom(res.Addr, res.Port)] = res.State
	}
	h := r.byAddr[res.Addr]
	if h == nil {
		return nil
	}
	switch res.State {
	case Closed:
		h.Closed++
		return nil
	case Filtered:
		h.Filtered++
	}
	p := PortReport{Port: res.Port, State: res.State, Reason: res.Reason}
	if r.Service != nil {
		p.Service = r.Service(res.Port)
	}
	if res.State == Open {
		p.RTT = res.RTT
	}
	h.Ports = append(h.Ports, p)
	return &h.Ports[len(h.Ports)-1]
}

// State is the recorded state of a port (after Track), or 0 if none.
func (r *Report) State(ap netip.AddrPort) State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.states[ap]
}

// Sort puts each host's ports in order.
func (r *Report) Sort() {
	for _, h := range r.Hosts {
		slices.SortFunc(h.Ports, func(x, y PortReport) int { return int(x.Port) - int(y.Port) })
	}
}

// GrabBanners reads what each open port says first (see Banners), an
// HTTP request going to ports whose service is http-like.
func (r *Report) GrabBanners(ctx context.Context, parallel int, timeout time.Duration) {
	var reqs []BannerRequest
	var where []*PortReport
	for _, h := range r.Hosts {
		for i := range h.Ports {
			p := &h.Ports[i]
			if p.State != Open {
				continue
			}
			http := strings.HasPrefix(p.Service, "http") && p.Service != "https" && p.Service != "https-alt"
			reqs = append(reqs, BannerRequest{Addr: netip.AddrPortFrom(h.Addr, p.Port), HTTP: http})
			where = append(where, p)
		}
	}
	for i, b := range Banners(ctx, reqs, parallel, timeout) {
		where[i].Banner = b
	}
}

// WriteGrepable writes the report in nmap's grepable format (-oG): a
// Host line with the status and one with the ports of each host. header
// goes after "# " on the first line (nmap puts its version and command
// line there).
func (r *Report) WriteGrepable(w io.Writer, header string, elapsed time.Duration) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# %s\n", header)
	clean := strings.NewReplacer("/", "|", ",", ";", "\t", " ")
	for _, h := range r.Hosts {
		fmt.Fprintf(bw, "Host: %s ()\tStatus: Up\n", h.Addr)
		items := make([]string, 0, len(h.Ports))
		for _, p := range h.Ports {
			items = append(items, fmt.Sprintf("%d/%s/tcp//%s//%s/", p.Port, p.State, clean.Replace(p.Service), clean.Replace(p.Banner)))
		}
		fmt.Fprintf(bw, "Host: %s ()\tPorts: %s\tIgnored State: closed (%d)\n", h.Addr, strings.Join(items, ", "), h.Closed)
	}
	es := "es"
	if len(r.Hosts) == 1 {
		es = ""
	}
	fmt.Fprintf(bw, "# done at %s -- %d IP address%s scanned in %.2f seconds\n", time.Now().Format(time.ANSIC), len(r.Hosts), es, elapsed.Seconds())
	return bw.Flush()
}

// Expectation is one line of a Policy: the state a port should be in.
type Expectation struct {
	Line int
	Addr netip.Addr
	Port uint16
	// State is Open, Filtered, or Closed, which means "not open":
	// closed or filtered both satisfy it.
	State State
}

// Policy is a firewall policy to check with a scan: which ports of which
// hosts should be open, closed or filtered.
type Policy struct {
	Name   string // the file, for messages
	Expect []Expectation
}

// ReadPolicy reads a policy: "TARGET PORT STATE" per line (PORT may end
// in /tcp; STATE is open, closed or filtered), blank lines and # comments
// skipped. name names r in errors.
func ReadPolicy(r io.Reader, name string) (*Policy, error) {
	p := &Policy{Name: name}
	err := fieldlines.Each(r, name, func(n int, fs []string) error {
		bad := func(what string) error {
			return fmt.Errorf("%s; lines are TARGET PORT STATE, such as \"192.0.2.1 22 open\" (STATE: open, closed or filtered)", what)
		}
		if len(fs) != 3 {
			return bad(fmt.Sprintf("%d fields", len(fs)))
		}
		addr, err := netip.ParseAddr(fs[0])
		if err != nil {
			return bad(fmt.Sprintf("%q is not an IP address", fs[0]))
		}
		port, err := strconv.ParseUint(strings.TrimSuffix(fs[1], "/tcp"), 10, 16)
		if err != nil || port == 0 {
			return bad(fmt.Sprintf("%q is not a TCP port 1-65535", fs[1]))
		}
		var st State
		switch strings.ToLower(fs[2]) {
		case "open":
			st = Open
		case "closed":
			st = Closed
		case "filtered":
			st = Filtered
		default:
			return bad(fmt.Sprintf("state %q", fs[2]))
		}
		p.Expect = append(p.Expect, Expectation{n, addr, uint16(port), st})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(p.Expect) == 0 {
		return nil, fmt.Errorf("%s: no expectations in it", name)
	}
	return p, nil
}

// Targets returns the addresses and ports the policy names, each once,
// in the order of first mention.
func (p *Policy) Targets() ([]netip.Addr, []uint16) {
	var addrs []netip.Addr
	var ports []uint16
	seenA := map[netip.Addr]bool{}
	seenP := map[uint16]bool{}
	for _, e := range p.Expect {
		if !seenA[e.Addr] {
			seenA[e.Addr] = true
			addrs = append(addrs, e.Addr)
		}
		if !seenP[e.Port] {
			seenP[e.Port] = true
			ports = append(ports, e.Port)
		}
	}
	return addrs, ports
}

// Difference is an expectation the scan did not meet.
type Difference struct {
	Policy string
	Expectation
	Found State
}

func (d Difference) String() string {
	return fmt.Sprintf("%s:%d: %s port %d/tcp: expected %s, found %s", d.Policy, d.Line, d.Addr, d.Port, d.State, d.Found)
}

// Check compares the policy with the states that state reports (such as
// Report.State after Report.Track).
func (p *Policy) Check(state func(netip.AddrPort) State) []Difference {
	var out []Difference
	for _, e := range p.Expect {
		got := state(netip.AddrPortFrom(e.Addr, e.Port))
		if got == e.State || e.State == Closed && got == Filtered {
			continue
		}
		out = append(out, Difference{Policy: p.Name, Expectation: e, Found: got})
	}
	return out
}
