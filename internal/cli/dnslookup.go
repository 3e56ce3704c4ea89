package cli

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/netkit-dev/netkit/dnsclient"
	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/spf13/cobra"
)

type lookupOptions struct {
	reverse   []string
	subnet    string
	insecure  bool
	bufsize   uint16
	tries     int
	wait      time.Duration
	resolv    string
	hints     string
	batch     string
	parallel  int
	qtypes    []string
	port      uint16
	unordered bool
	dnsclient.DigFlags
}

func newDNSLookupCmd(a *app) *cobra.Command {
	var o lookupOptions
	cmd := &cobra.Command{
		Use:   "lookup NAME... [TYPE...] [@SERVER...]",
		Short: "Ask DNS servers, as dig does",
		Long: `Send DNS queries and print the answers as dig does: header and flags,
question, answer, authority and additional sections, EDNS, query time,
server and message size. Every TYPE (by name, or TYPEnnn) is asked for
every NAME; the default is A. -x ADDR asks for the PTR record of an address.

@SERVER is an address, host:port, or a URL: udp://, tcp://, tls:// (DNS over
TLS, port 853, certificate verified unless --insecure) or https:// (DNS over
HTTPS, RFC 8484). Without one, the servers, search list, ndots, timeout and
attempts of /etc/resolv.conf are used. A truncated UDP answer is asked again
over TCP. EDNS0 goes with a 1232-byte buffer unless --noedns.

--short prints only the answer data, one record per line, as dig +short.
--json prints each message in the shape of RFC 8427.

--trace resolves iteratively from the root (built-in root hints, or
--root-hints FILE), as dig +trace: each hop with its server, round-trip
time, rcode and referral; glue is used, glueless name servers are resolved
from the root, CNAMEs out of a zone are followed.

-f FILE runs the queries in FILE (NAME [TYPE] per line, # comments; - for
stdin) concurrently: a line per answer, in the file's order (--unordered:
as they come), then the p50 and p99 latency.

Exits 0 when every query got an answer (NXDOMAIN included, and shown), 1
when no server answered one, 2 for bad input.`,
		Example: `  netkit dns lookup example.com @127.0.0.1:5353
  netkit dns lookup example.com MX AAAA @tcp://127.0.0.1:5353
  netkit dns lookup -x 192.0.2.1 @127.0.0.1:5353 --short
  netkit dns lookup example.com @tls://127.0.0.1:853 --insecure
  netkit dns lookup example.com @https://127.0.0.1/dns-query --json`,
		Args: func(cmd *cobra.Command, args []string) error { return nil },
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return runLookup(ctx, a, o, args)
		}),
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.reverse, "reverse", "x", nil, "ask for the PTR record of this address (repeatable)")
	f.BoolVar(&o.Short, "short", false, "print only the answer data, one record per line")
	f.BoolVar(&o.DNSSEC, "dnssec", false, "set the DO bit: ask for DNSSEC signatures")
	f.BoolVar(&o.NSID, "nsid", false, "ask the server for its identity (RFC 5001)")
	f.StringVar(&o.subnet, "subnet", "", "send EDNS Client Subnet with this `PREFIX` (RFC 7871)")
	f.BoolVar(&o.Cookie, "cookie", false, "send a DNS cookie (RFC 7873)")
	f.BoolVar(&o.NoRecurse, "norecurse", false, "clear RD: ask the server for what it knows itself")
	f.BoolVar(&o.TCP, "tcp", false, "use TCP for servers given without a scheme")
	f.BoolVar(&o.insecure, "insecure", false, "tls:// and https://: do not verify the certificate")
	f.Uint16Var(&o.bufsize, "bufsize", 1232, "the EDNS UDP buffer size to announce")
	f.BoolVar(&o.NoEDNS, "noedns", false, "send plain RFC 1035 queries, without EDNS")
	f.IntVar(&o.tries, "tries", 0, "attempts per server (default resolv.conf's, or 2)")
	f.DurationVar(&o.wait, "wait", 0, "wait for one answer (default resolv.conf's timeout, or 5s)")
	f.StringVar(&o.resolv, "resolv-conf", "/etc/resolv.conf", "the resolver configuration to use without @SERVER")
	f.BoolVar(&o.Trace, "trace", false, "resolve iteratively from the root servers, showing every referral")
	f.StringVar(&o.hints, "root-hints", "", "with --trace, the root servers from this named.root `FILE`")
	f.StringVarP(&o.batch, "file", "f", "", "run the queries of `FILE` (NAME [TYPE] per line; - for stdin) concurrently, then p50/p99")
	f.IntVar(&o.parallel, "parallel", 32, "with -f, queries in flight at once")
	f.BoolVar(&o.unordered, "unordered", false, "with -f, print answers as they come, not in the file's order")
	f.StringArrayVarP(&o.qtypes, "type", "t", nil, "ask for this record `TYPE` (repeatable; as dig -t)")
	f.Uint16VarP(&o.port, "port", "p", 0, "ask servers on this port unless they name one (as dig -p)")
	return cmd
}

func runLookup(ctx context.Context, a *app, o lookupOptions, args []string) error {
	if o.bufsize < 512 {
		return usageError("invalid --bufsize %d: at least 512", o.bufsize)
	}
	if o.tries < 0 || o.wait < 0 {
		return usageError("--tries and --wait may not be negative")
	}
	dig, err := dnsclient.ParseDig(args, o.port, o.DigFlags)
	if de, ok := errors.AsType[*dnsclient.DigError](err); ok {
		return usageError("dig's %s is %s", de.Arg, de.Rule)
	} else if err != nil {
		return inputError(err)
	}
	for u, ascii := range dig.IDNA {
		if !a.json {
			fmt.Fprintf(a.io.Err, ";; %s is %s in DNS (IDNA)\n", u, ascii)
		}
	}
	o.DigFlags = dig.DigFlags
	c := &dnsclient.Client{Servers: dig.Servers, BufSize: o.bufsize, Attempts: o.tries, Timeout: o.wait, TLSConfig: &tls.Config{}}
	o.Apply(c)
	if o.subnet != "" {
		p, err := netip.ParsePrefix(o.subnet)
		if err != nil {
			if ad, err2 := netip.ParseAddr(o.subnet); err2 == nil {
				p = netip.PrefixFrom(ad, ad.BitLen())
			} else {
				return inputError(fmt.Errorf("invalid --subnet %q: a prefix such as 192.0.2.0/24", o.subnet))
			}
		}
		c.Subnet = p
	}
	if o.insecure {
		c.TLSConfig = insecureTLS()
	}
	for _, t := range o.qtypes {
		qt, ok := dnsclient.ParseType(t)
		if !ok {
			return usageError("invalid -t %q: a record type such as A, MX or TYPE65534", t)
		}
		dig.Types = append(dig.Types, qt)
	}
	queries, err := dig.Queries(o.reverse)
	if de, ok := errors.AsType[*dnsclient.DigError](err); ok {
		return inputError(fmt.Errorf("invalid -x %q: an IPv4 or IPv6 address", de.Arg))
	}
	if len(queries) == 0 && o.batch == "" {
		return usageError("netkit dns lookup needs a NAME or -x ADDR")
	}
	if o.Trace {
		return runTrace(ctx, a, c, o, queries)
	}
	if o.batch != "" {
		return runBatch(ctx, a, c, o, queries)
	}
	if c.Servers == nil {
		if err := c.System(o.resolv); err != nil {
			return fmt.Errorf("reading %s: %w (give @SERVER)", o.resolv, err)
		}
		dnsclient.WithPort(c.Servers, o.port)
	}
	failed := false
	var docs []any
	for _, q := range queries {
		ans, err := c.Lookup(ctx, q)
		if err != nil {
			failed = true
			fmt.Fprintln(a.io.Err, message(fmt.Errorf("%s: %w", q, err)))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		switch {
		case a.json:
			docs = append(docs, ans.RFC8427())
		case o.Short:
			for _, r := range ans.Records() {
				fmt.Fprintln(a.io.Out, r)
			}
		case o.NoAll:
			if o.Answer {
				for _, rr := range ans.Msg.Answer {
					fmt.Fprintln(a.io.Out, rr)
				}
			}
		default:
			ans.WriteDig(a.io.Out, q)
		}
	}
	if a.json {
		var v any = docs
		if len(docs) == 1 {
			v = docs[0]
		}
		if err := a.render(jsonDoc{v}); err != nil {
			return err
		}
	}
	if failed {
		return errSilentFailure
	}
	return nil
}

// jsonDoc renders any value as JSON; it has no human form of its own.
type jsonDoc struct{ v any }

func (j jsonDoc) MarshalJSON() ([]byte, error)             { return json.Marshal(j.v) }
func (j jsonDoc) writeHuman(io.Writer, textui.Style) error { return nil }
