package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/acl"

	"github.com/netkit-dev/netkit/dnsserver"
	"github.com/netkit-dev/netkit/endpoint"
	"github.com/spf13/cobra"
)

type dnsServeOptions struct {
	listen        []string
	zones         []string
	forward       []string
	cache         int
	maxTTL        time.Duration
	serveStale    time.Duration
	upTimeout     time.Duration
	allowTransfer []string
	udpSize       uint16
	rateLimit     float64
	readers       int
	maxInFlight   int
	maxPerUp      int
	queryLog      bool
}

func newDNSServeCmd(a *app) *cobra.Command {
	var o dnsServeOptions
	cmd := &cobra.Command{
		Use:   "serve [--zone FILE]... [--forward UPSTREAM]...",
		Short: "Serve zones authoritatively, and forward and cache other names",
		Long: `Answer DNS queries over UDP and TCP on each --listen address (default
127.0.0.1:5353; port 0 picks one).

--zone FILE serves a zone from an RFC 1035 master file ($ORIGIN, $TTL,
$INCLUDE relative to the including file, $GENERATE). The origin is the
owner of the file's SOA record unless given as ORIGIN=FILE. Answers are
authoritative: NXDOMAIN and NODATA carry the SOA with the negative TTL
min(SOA TTL, MINIMUM); CNAME chains inside the zone are followed;
wildcards match as RFC 4592 says; names below a delegation get a referral
with glue (AA clear). Over UDP an answer that does not fit the client's
buffer (512 bytes, or its EDNS size up to --udp-size) is truncated with TC
set; over TCP it is whole. AXFR goes only to --allow-transfer clients.

--forward UPSTREAM (an address, host:port or udp://, tcp://, tls://,
https:// URL; repeatable) answers every other name by asking the upstreams,
the last one that answered first. Each upstream query leaves from a new
random port with a random ID; the reply must match the question, and
records that do not belong to it are dropped. Answers are cached (--cache
entries, LRU), negative ones as RFC 2308 says, with TTLs counting down and
capped at --max-ttl. --serve-stale D answers from expired entries, with TTL
30, for up to D after they expire when no upstream answers (RFC 8767).
Without --forward, names outside the zones are REFUSED.

SIGHUP reloads every zone file: if one is broken the error names its file
and line and the old zones keep serving. --rate-limit N limits answers to
N per second per client network (/24, /56); one limited query in two gets
an empty truncated answer, the others none. It is off by default.

--json prints events (listening, zones, reload, stats) and, with
--query-log, one line per query. The counters are printed when it stops.`,
		Example: `  netkit dns serve --zone example.zone
  netkit dns serve --listen 127.0.0.1:5353 --zone example.com=db.example --allow-transfer 127.0.0.1
  netkit dns serve --forward 127.0.0.1:53 --cache 10000 --serve-stale 1h
  netkit dns serve --zone example.zone --json --query-log`,
		Args: noArgs,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return runDNSServe(ctx, a, o)
		}),
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.listen, "listen", nil, "HOST:PORT to answer on over UDP and TCP, or a udp:// or tcp:// endpoint for one (repeatable; default 127.0.0.1:5353)")
	f.StringArrayVar(&o.zones, "zone", nil, "serve the zone in this master file, as FILE or ORIGIN=FILE (repeatable)")
	f.StringArrayVar(&o.forward, "forward", nil, "ask this upstream server about names outside the zones (repeatable)")
	f.IntVar(&o.cache, "cache", 10000, "forwarded answers to cache (0: none)")
	f.DurationVar(&o.maxTTL, "max-ttl", 24*time.Hour, "keep cached answers at most this long")
	f.DurationVar(&o.serveStale, "serve-stale", 0, "answer from expired cache entries for this long past expiry when upstreams fail (RFC 8767)")
	f.DurationVar(&o.upTimeout, "upstream-timeout", 2*time.Second, "wait this long for each upstream")
	f.StringArrayVar(&o.allowTransfer, "allow-transfer", nil, "allow zone transfers (AXFR) to this address or CIDR prefix (repeatable)")
	f.Uint16Var(&o.udpSize, "udp-size", 1232, "largest UDP answer to EDNS clients, 512-65535")
	f.Float64Var(&o.rateLimit, "rate-limit", 0, "answers per second per client network (0: no limit)")
	f.IntVar(&o.readers, "readers", 0, "goroutines reading each UDP socket; they take turns (default 1)")
	f.IntVar(&o.maxInFlight, "max-in-flight", 1024, "UDP queries waiting for upstreams at once; more get SERVFAIL")
	f.IntVar(&o.maxPerUp, "max-per-upstream", 256, "queries waiting for one upstream; past it the next is asked, or SERVFAIL")
	f.BoolVar(&o.queryLog, "query-log", false, "log every query (with --json, as JSON lines)")
	return cmd
}

func runDNSServe(ctx context.Context, a *app, o dnsServeOptions) error {
	if o.maxInFlight < 1 {
		return usageError("invalid --max-in-flight %d: it must be at least 1", o.maxInFlight)
	}
	out := &lockedWriter{w: a.io.Out}
	logLevel := slog.LevelWarn
	if a.verbose > 0 {
		logLevel = slog.LevelInfo
	}
	opts := dnsserver.Options{
		Listen: o.listen, Forward: o.forward, AllowTransfer: o.allowTransfer,
		UpstreamTimeout: o.upTimeout, Cache: o.cache, MaxTTL: o.maxTTL, ServeStale: o.serveStale,
		UDPSize: o.udpSize, RateLimit: o.rateLimit, Readers: o.readers, MaxInFlight: o.maxInFlight, MaxPerUpstream: o.maxPerUp,
		ReloadOnHangup: true,
		Logger:         slog.New(slog.NewTextHandler(a.io.Err, &slog.HandlerOptions{Level: logLevel})),
		Events:         func(ev dnsserver.Event) { writeDNSEvent(a, out, ev) },
	}
	for _, z := range o.zones {
		opts.Zones = append(opts.Zones, dnsserver.ParseZoneFile(z))
	}
	if o.queryLog {
		opts.QueryLog = func(q dnsserver.Query) {
			if a.json {
				writeJSONLine(out, struct {
					Event string `json:"event"`
					dnsserver.Query
				}{"query", q})
				return
			}
			fmt.Fprintf(out, "%s %s %s %s %s %s [%s] %dB %s %s\n", q.Time.UTC().Format(time.RFC3339Nano), q.Client, q.Proto,
				q.Name, q.Type, q.Rcode, q.Flags, q.Size, q.Source, q.Duration.Round(time.Microsecond))
		}
	}
	srv, err := dnsserver.Serve(ctx, opts)
	if srv == nil {
		if oe, ok := errors.AsType[*dnsserver.OptionError](err); ok {
			switch oe.Option {
			case "zone":
				return usageError("netkit dns serve needs something to serve: --zone FILE or --forward UPSTREAM")
			case "limits":
				return usageError("--cache, --rate-limit, --readers, --max-ttl, --serve-stale, --upstream-timeout and --max-per-upstream may not be negative")
			}
			return usageError("invalid --%s: %s", oe.Option, oe.Rule)
		}
		if pe, ok := errors.AsType[*acl.ParseError](err); ok {
			return usageError("invalid --allow-transfer %q: %s", pe.Input, pe.Rule)
		}
		if pe, ok := errors.AsType[*endpoint.ParseError](err); ok {
			return usageError("invalid --listen: %v", pe)
		}
		if _, ok := errors.AsType[*dnsserver.ZoneError](err); ok {
			return inputError(err)
		}
		return err
	}
	st := srv.Stats()
	if a.json {
		writeDNSEvent(a, out, dnsserver.Event{Event: "stats", Time: nowStamp(), Stats: &st})
	} else if a.verbose > 0 || st.UDP+st.TCP > 0 {
		writeDNSStats(a.io.Err, st)
	}
	return err
}

func writeDNSEvent(a *app, out io.Writer, ev dnsserver.Event) {
	if a.json {
		writeJSONLine(out, ev)
		return
	}
	switch ev.Event {
	case "listening":
		fmt.Fprintf(out, "listening on %s\n", ev.Endpoint)
	case "zone":
		fmt.Fprintf(out, "zone %s serial %d, %d records, from %s\n", ev.Zone, ev.Serial, ev.Records, ev.File)
	case "forwarding":
		fmt.Fprintf(out, "forwarding other names to %s\n", ev.Upstreams)
	case "reload":
		if ev.Error != "" {
			fmt.Fprintf(a.io.Err, "netkit: reload failed, still serving the old zones: %s\n", ev.Error)
		} else {
			fmt.Fprintln(out, "reloaded the zones")
		}
	}
}

func writeDNSStats(w io.Writer, st dnsserver.Stats) {
	var rc []string
	for _, k := range slices.Sorted(maps.Keys(st.Rcodes)) {
		rc = append(rc, fmt.Sprintf("%s %d", k, st.Rcodes[k]))
	}
	fmt.Fprintf(w, "answered %d over UDP, %d over TCP (%s); %d truncated, %d from packed answers\n",
		st.UDP, st.TCP, strings.Join(rc, ", "), st.Truncated, st.FastHits)
	if st.CacheHits+st.CacheMisses+st.UpstreamFailures > 0 {
		fmt.Fprintf(w, "forwarded: %d cache hits, %d misses, %d stale, %d with no upstream answer\n",
			st.CacheHits, st.CacheMisses, st.Stale, st.UpstreamFailures)
	}
	if st.Dropped+st.Slipped > 0 {
		fmt.Fprintf(w, "rate limit: %d dropped, %d truncated\n", st.Dropped, st.Slipped)
	}
	if st.Transfers+st.TransfersRefused > 0 {
		fmt.Fprintf(w, "zone transfers: %d, %d refused\n", st.Transfers, st.TransfersRefused)
	}
	if st.Overloaded > 0 {
		fmt.Fprintf(w, "overloaded: %d answered SERVFAIL at --max-in-flight\n", st.Overloaded)
	}
	if st.UpstreamFull > 0 {
		fmt.Fprintf(w, "upstreams full: %d times one was passed over at --max-per-upstream\n", st.UpstreamFull)
	}
}
