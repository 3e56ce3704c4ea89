package impair

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// Controlled is a proxy whose faults the API sets: a TCPProxy or a
// UDPProxy.
type Controlled interface {
	AddToxic(Toxic) (Toxic, error)
	UpdateToxic(name string, toxicity *float64, attrs map[string]any) (Toxic, error)
	RemoveToxic(name string) error
	ResetToxics()
	Toxics() []Toxic
	Start() error
	Stop()
	// Addr is the address it listens on; State its name, listen and
	// upstream addresses and whether it is enabled.
	Addr() string
	State() (name, listen, upstream string, enabled bool)
	SetAddrs(listen, upstream string)
}

// UDP toxics, netkit's extension of toxiproxy's API for UDP proxies
// (listen given as udp://HOST:PORT): latency (latency, jitter in ms) and
// bandwidth (rate in KB/s) as for TCP, and loss, duplicate, corrupt and
// reorder, each with a percent (0 to 100, fractions allowed).
var udpToxics = map[string][]string{
	"latency":   {"latency", "jitter"},
	"bandwidth": {"rate"},
	"loss":      {"percent"},
	"duplicate": {"percent"},
	"corrupt":   {"percent"},
	"reorder":   {"percent"},
}

// checkUDP checks a toxic of a UDP proxy.
func checkUDP(t *Toxic) error {
	names, ok := udpToxics[t.Type]
	if !ok {
		return &ToxicError{t.Type, "a UDP proxy takes latency, bandwidth, loss, duplicate, corrupt or reorder"}
	}
	switch t.Stream {
	case "":
		t.Stream = "downstream"
	case "upstream", "downstream":
	default:
		return &ToxicError{t.Type, fmt.Sprintf("stream %q: upstream or downstream", t.Stream)}
	}
	if t.Name == "" {
		t.Name = t.Type + "_" + t.Stream
	}
	if t.Toxicity != 0 && t.Toxicity != 1 {
		return &ToxicError{t.Name, "a UDP proxy's toxics apply to every datagram (toxicity 1): use loss for a share"}
	}
	t.Toxicity = 1
	if t.Attributes == nil {
		t.Attributes = map[string]any{}
	}
	for k, v := range t.Attributes {
		f, ok := v.(float64)
		if i, isInt := v.(int); isInt {
			f, ok = float64(i), true
		}
		known := false
		for _, n := range names {
			known = known || n == k
		}
		if !known || !ok || f < 0 || k == "percent" && f > 100 {
			return &ToxicError{t.Name, fmt.Sprintf("attribute %s: %s takes %v, numbers not negative (percent at most 100)", k, t.Type, names)}
		}
		t.Attributes[k] = f
	}
	for _, n := range names {
		if _, ok := t.Attributes[n]; !ok {
			t.Attributes[n] = 0.0
		}
	}
	return nil
}

// UDPProxy is a Proxy whose faults come from toxics, for the API.
type UDPProxy struct {
	name, listen, upstream string

	mu      sync.Mutex
	toxics  toxicList
	proxy   *Proxy
	pc      *net.UDPConn
	stop    context.CancelFunc
	stopped chan struct{}
}

// NewUDPProxy makes a proxy from listen to upstream (HOST:PORT, or
// udp://HOST:PORT), not yet started.
func NewUDPProxy(name, listen, upstream string) *UDPProxy {
	return &UDPProxy{name: name, listen: strings.TrimPrefix(listen, "udp://"), upstream: strings.TrimPrefix(upstream, "udp://")}
}

func (u *UDPProxy) faults() (up, down Faults) {
	for _, t := range u.toxics {
		f := &down
		if t.Stream == "upstream" {
			f = &up
		}
		a := func(k string) float64 { v, _ := t.Attributes[k].(float64); return v }
		switch t.Type {
		case "latency":
			f.Delay, f.Jitter = time.Duration(a("latency"))*time.Millisecond, time.Duration(a("jitter"))*time.Millisecond
		case "bandwidth":
			f.Rate = a("rate") * 8000
		case "loss":
			f.Loss = a("percent") / 100
		case "duplicate":
			f.Duplicate = a("percent") / 100
		case "corrupt":
			f.Corrupt = a("percent") / 100
		case "reorder":
			f.Reorder = a("percent") / 100
		}
	}
	return up, down
}

// apply hands the toxics to the running proxy; u.mu held.
func (u *UDPProxy) apply() {
	if u.proxy != nil {
		up, down := u.faults()
		u.proxy.SetFaults(up, down)
	}
}

// Start binds the listen address and relays until Stop.
func (u *UDPProxy) Start() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.proxy != nil {
		return nil
	}
	addr, err := net.ResolveUDPAddr("udp", u.listen)
	if err != nil {
		return err
	}
	pc, err := net.ListenUDP("udp", addr)
	if err != nil {
		return err
	}
	up, down := u.faults()
	u.pc, u.listen = pc, pc.LocalAddr().String()
	u.proxy = &Proxy{To: u.upstream, Up: up, Down: down, Seed: uint64(time.Now().UnixNano())}
	ctx, cancel := context.WithCancel(context.Background())
	u.stop, u.stopped = cancel, make(chan struct{})
	go func(p *Proxy, done chan struct{}) { p.Serve(ctx, pc); close(done) }(u.proxy, u.stopped)
	return nil
}

// Stop ends the relay and closes the socket.
func (u *UDPProxy) Stop() {
	u.mu.Lock()
	stop, stopped := u.stop, u.stopped
	u.proxy, u.stop, u.stopped = nil, nil, nil
	u.mu.Unlock()
	if stop != nil {
		stop()
		<-stopped
	}
}

// Addr is the address it listens on.
func (u *UDPProxy) Addr() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return "udp://" + u.listen
}

// State reports the proxy's settings.
func (u *UDPProxy) State() (string, string, string, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.name, "udp://" + u.listen, "udp://" + u.upstream, u.proxy != nil
}

// SetAddrs changes the addresses, for the next Start.
func (u *UDPProxy) SetAddrs(listen, upstream string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if listen != "" {
		u.listen = strings.TrimPrefix(listen, "udp://")
	}
	if upstream != "" {
		u.upstream = strings.TrimPrefix(upstream, "udp://")
	}
}

// Stats returns the running proxy's counters.
func (u *UDPProxy) Stats() Stats {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.proxy == nil {
		return Stats{}
	}
	return u.proxy.Stats()
}

// Toxics returns a copy of the toxics in force.
func (u *UDPProxy) Toxics() []Toxic {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]Toxic(nil), u.toxics...)
}

// AddToxic checks t and puts it in force.
func (u *UDPProxy) AddToxic(t Toxic) (Toxic, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	t, err := u.toxics.add(t, checkUDP)
	if err == nil {
		u.apply()
	}
	return t, err
}

// UpdateToxic changes a toxic's attributes.
func (u *UDPProxy) UpdateToxic(name string, toxicity *float64, attrs map[string]any) (Toxic, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	t, err := u.toxics.update(name, toxicity, attrs, checkUDP)
	if err == nil {
		u.apply()
	}
	return t, err
}

// RemoveToxic takes a toxic out of force.
func (u *UDPProxy) RemoveToxic(name string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	err := u.toxics.remove(name)
	if err == nil {
		u.apply()
	}
	return err
}

// ResetToxics removes every toxic.
func (u *UDPProxy) ResetToxics() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.toxics = nil
	u.apply()
}
