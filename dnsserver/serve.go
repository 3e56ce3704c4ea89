package dnsserver

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/netkit-dev/netkit/acl"
	"github.com/netkit-dev/netkit/dnsclient"
)

// Options describe a whole server, as netkit dns serve runs it: where it
// listens, the zones it serves, where it forwards other names, and its
// limits. The zero value of each field is its default.
type Options struct {
	// Listen holds the addresses to answer on, each as Listen takes it.
	// If empty, 127.0.0.1:5353.
	Listen []string
	// Zones are served authoritatively and loaded again on SIGHUP when
	// ReloadOnHangup is set.
	Zones []ZoneFile
	// Forward holds upstream servers (as dnsclient.ParseServer reads
	// them) for every name outside the zones; without them such names
	// are REFUSED.
	Forward []string
	// UpstreamTimeout is the wait for each upstream (default 2s).
	UpstreamTimeout time.Duration
	// Cache is the number of forwarded answers cached; 0 caches none.
	Cache int
	// MaxTTL caps cached TTLs (default 24h); ServeStale answers from
	// expired entries for this long when no upstream answers (RFC 8767).
	MaxTTL, ServeStale time.Duration
	// AllowTransfer lists the addresses and prefixes allowed AXFR.
	AllowTransfer []string
	// UDPSize is the largest UDP answer to EDNS clients (default 1232).
	UDPSize uint16
	// RateLimit is answers per second per client network; 0 is no limit.
	RateLimit float64
	// Readers per UDP socket (default 1, see RunConfig); MaxInFlight, UDP
	// queries waiting for upstreams at once (default 1024);
	// MaxPerUpstream, queries waiting for one upstream (default 256).
	Readers, MaxInFlight, MaxPerUpstream int
	// ReloadOnHangup loads the zones again on each SIGHUP.
	ReloadOnHangup bool
	// QueryLog, if set, is told of every query answered.
	QueryLog func(Query)
	// Logger logs what goes wrong; nil logs nothing.
	Logger *slog.Logger
	// Events, if set, is told of the server's life: "listening" (one per
	// endpoint), "zone" (one per zone, at the start and after a reload),
	// "forwarding", "reload".
	Events func(Event)
}

// Event is one moment of a server's life.
type Event struct {
	Event     string `json:"event"`
	Time      string `json:"time"`
	Endpoint  string `json:"endpoint,omitempty"`
	Zone      string `json:"zone,omitempty"`
	File      string `json:"file,omitempty"`
	Serial    uint32 `json:"serial,omitempty"`
	Records   int    `json:"records,omitempty"`
	Error     string `json:"error,omitempty"`
	Upstreams string `json:"upstreams,omitempty"`
	Stats     *Stats `json:"stats,omitempty"`
}

// OptionError is an Options value that cannot be served: which option
// (named as netkit dns serve's flag: zone, forward, udp-size, or limits
// for the numeric ones), and the rule it broke.
type OptionError struct {
	Option string
	Rule   string
}

func (e *OptionError) Error() string { return "dnsserver: " + e.Option + ": " + e.Rule }

// ZoneError is a zone file that could not be loaded at the start.
type ZoneError struct{ Err error }

func (e *ZoneError) Error() string { return "zone: " + e.Err.Error() }
func (e *ZoneError) Unwrap() error { return e.Err }

func (o Options) check() error {
	switch {
	case len(o.Zones) == 0 && len(o.Forward) == 0:
		return &OptionError{"zone", "a server needs something to serve: a zone or an upstream to forward to"}
	case o.UDPSize != 0 && o.UDPSize < 512:
		return &OptionError{"udp-size", fmt.Sprintf("%d is below 512, the least every client takes (RFC 1035)", o.UDPSize)}
	case o.Cache < 0, o.RateLimit < 0, o.Readers < 0, o.MaxTTL < 0, o.ServeStale < 0, o.UpstreamTimeout < 0, o.MaxInFlight < 0, o.MaxPerUpstream < 0:
		return &OptionError{"limits", "cache, rate limit, readers, TTLs, timeouts and in-flight queries may not be negative"}
	}
	return nil
}

// Build checks the options, loads the zones and returns the server they
// describe, not yet listening.
func (o Options) Build() (*Server, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	zones, err := LoadZones(o.Zones)
	if err != nil {
		return nil, &ZoneError{err}
	}
	xfr, err := acl.Parse(o.AllowTransfer, nil)
	if err != nil {
		return nil, err
	}
	srv := &Server{
		AllowTransfer: xfr.Allow(),
		UDPSize:       o.UDPSize,
		MaxInFlight:   o.MaxInFlight,
		Logger:        o.Logger,
		QueryLog:      o.QueryLog,
	}
	if srv.UDPSize == 0 {
		srv.UDPSize = 1232
	}
	if srv.MaxInFlight == 0 {
		srv.MaxInFlight = 1024
	}
	if o.RateLimit > 0 {
		srv.RateLimit = NewRateLimiter(o.RateLimit)
	}
	if len(o.Forward) > 0 {
		fw := &Forwarder{Timeout: o.UpstreamTimeout, MaxPerUpstream: o.MaxPerUpstream}
		for _, u := range o.Forward {
			s, err := dnsclient.ParseServer(u)
			if err != nil {
				return nil, &OptionError{"forward", err.Error()}
			}
			fw.Upstreams = append(fw.Upstreams, s)
		}
		if o.Cache > 0 {
			fw.Cache = &Cache{Size: o.Cache, MaxTTL: o.MaxTTL, Stale: o.ServeStale}
		}
		srv.Forwarder = fw
	}
	srv.SetZones(zones)
	return srv, nil
}

// Serve builds the server the options describe, binds every address and
// answers until ctx ends, then stops gracefully and returns the server
// (for its Stats) with the error that stopped it. Errors before anything
// is served are an *OptionError, a *ZoneError, an *acl.ParseError, an
// *endpoint.ParseError or a failure to bind, and come with a nil server.
func Serve(ctx context.Context, o Options) (*Server, error) {
	srv, err := o.Build()
	if err != nil {
		return nil, err
	}
	emit := func(ev Event) {
		if o.Events != nil {
			ev.Time = time.Now().UTC().Format(time.RFC3339Nano)
			o.Events(ev)
		}
	}
	addrs := o.Listen
	if len(addrs) == 0 {
		addrs = []string{"127.0.0.1:5353"}
	}
	var socks []Socket
	for _, s := range addrs {
		k, err := Listen(ctx, s)
		if err != nil {
			for _, k := range socks {
				k.Close()
			}
			return nil, fmt.Errorf("listen %s: %w", s, err)
		}
		socks = append(socks, k)
		for _, ep := range k.Endpoints() {
			emit(Event{Event: "listening", Endpoint: ep})
		}
	}
	emitZones := func(zs *Zones) {
		for _, z := range zs.List() {
			emit(Event{Event: "zone", Zone: z.Origin, File: z.File, Serial: z.SOA.Serial, Records: z.Len()})
		}
	}
	emitZones(srv.Zones())
	if srv.Forwarder != nil {
		emit(Event{Event: "forwarding", Upstreams: srv.Forwarder.String()})
	}
	cfg := RunConfig{
		Readers: o.Readers,
		Load:    func() (*Zones, error) { return LoadZones(o.Zones) },
		Reloaded: func(zs *Zones, err error) {
			if err != nil {
				emit(Event{Event: "reload", Error: err.Error()})
				return
			}
			emit(Event{Event: "reload"})
			emitZones(zs)
		},
	}
	if o.ReloadOnHangup {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		reload := make(chan struct{})
		go func() {
			for {
				select {
				case <-hup:
					select {
					case reload <- struct{}{}:
					case <-ctx.Done():
						return
					}
				case <-ctx.Done():
					return
				}
			}
		}()
		cfg.Reload = reload
	}
	return srv, srv.Run(ctx, socks, cfg)
}

// ParseZoneFile reads a zone given as FILE or ORIGIN=FILE.
func ParseZoneFile(s string) ZoneFile {
	if origin, file, ok := strings.Cut(s, "="); ok && origin != "" && !strings.Contains(origin, "/") {
		return ZoneFile{Path: file, Origin: origin}
	}
	return ZoneFile{Path: s}
}
