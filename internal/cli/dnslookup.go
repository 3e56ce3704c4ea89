package cli

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	"github.com/netkit-dev/netkit/dnsclient"
	"github.com/netkit-dev/netkit/internal/fieldlines"
	"github.com/netkit-dev/netkit/perf"
	"github.com/spf13/cobra"
)

type lookupOptions struct {
	reverse   []string
	short     bool
	dnssec    bool
	nsid      bool
	subnet    string
	cookie    bool
	norecurse bool
	tcp       bool
	insecure  bool
	bufsize   uint16
	noEDNS    bool
	tries     int
	wait      time.Duration
	resolv    string
	trace     bool
	hints     string
	batch     string
	parallel  int
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
stdin) concurrently: a line per answer, then the p50 and p99 latency.

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
	f.BoolVar(&o.short, "short", false, "print only the answer data, one record per line")
	f.BoolVar(&o.dnssec, "dnssec", false, "set the DO bit: ask for DNSSEC signatures")
	f.BoolVar(&o.nsid, "nsid", false, "ask the server for its identity (RFC 5001)")
	f.StringVar(&o.subnet, "subnet", "", "send EDNS Client Subnet with this `PREFIX` (RFC 7871)")
	f.BoolVar(&o.cookie, "cookie", false, "send a DNS cookie (RFC 7873)")
	f.BoolVar(&o.norecurse, "norecurse", false, "clear RD: ask the server for what it knows itself")
	f.BoolVar(&o.tcp, "tcp", false, "use TCP for servers given without a scheme")
	f.BoolVar(&o.insecure, "insecure", false, "tls:// and https://: do not verify the certificate")
	f.Uint16Var(&o.bufsize, "bufsize", 1232, "the EDNS UDP buffer size to announce")
	f.BoolVar(&o.noEDNS, "noedns", false, "send plain RFC 1035 queries, without EDNS")
	f.IntVar(&o.tries, "tries", 0, "attempts per server (default resolv.conf's, or 2)")
	f.DurationVar(&o.wait, "wait", 0, "wait for one answer (default resolv.conf's timeout, or 5s)")
	f.StringVar(&o.resolv, "resolv-conf", "/etc/resolv.conf", "the resolver configuration to use without @SERVER")
	f.BoolVar(&o.trace, "trace", false, "resolve iteratively from the root servers, showing every referral")
	f.StringVar(&o.hints, "root-hints", "", "with --trace, the root servers from this named.root `FILE`")
	f.StringVarP(&o.batch, "file", "f", "", "run the queries of `FILE` (NAME [TYPE] per line; - for stdin) concurrently, then p50/p99")
	f.IntVar(&o.parallel, "parallel", 32, "with -f, queries in flight at once")
	return cmd
}

type lookupQuery struct {
	name  string
	qtype uint16
}

func runLookup(ctx context.Context, a *app, o lookupOptions, args []string) error {
	c := &dnsclient.Client{DNSSEC: o.dnssec, NSID: o.nsid, Cookie: o.cookie, NoRecurse: o.norecurse,
		BufSize: o.bufsize, NoEDNS: o.noEDNS, Attempts: o.tries, Timeout: o.wait}
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
	if o.bufsize < 512 {
		return usageError("invalid --bufsize %d: at least 512", o.bufsize)
	}
	if o.tries < 0 || o.wait < 0 {
		return usageError("--tries and --wait may not be negative")
	}
	if o.insecure {
		c.TLSConfig = insecureTLS()
	} else {
		c.TLSConfig = &tls.Config{}
	}
	var names []string
	var types []uint16
	for _, arg := range args {
		switch {
		case strings.HasPrefix(arg, "@"):
			s := arg[1:]
			if o.tcp && !strings.Contains(s, "://") {
				s = "tcp://" + s
			}
			sv, err := dnsclient.ParseServer(s)
			if err != nil {
				return inputError(err)
			}
			c.Servers = append(c.Servers, sv)
		case isTypeName(arg):
			types = append(types, typeOf(arg))
		default:
			if _, ok := dns.IsDomainName(arg); !ok || arg == "" {
				return inputError(fmt.Errorf("invalid name %q: labels are at most 63 bytes and names 255", arg))
			}
			names = append(names, arg)
		}
	}
	var queries []lookupQuery
	for _, x := range o.reverse {
		rev, err := dns.ReverseAddr(x)
		if err != nil {
			return inputError(fmt.Errorf("invalid -x %q: an IPv4 or IPv6 address", x))
		}
		queries = append(queries, lookupQuery{rev, dns.TypePTR})
	}
	if len(types) == 0 {
		types = []uint16{dns.TypeA}
	}
	for _, n := range names {
		for _, t := range types {
			queries = append(queries, lookupQuery{n, t})
		}
	}
	if len(queries) == 0 && o.batch == "" {
		return usageError("netkit dns lookup needs a NAME or -x ADDR")
	}
	if o.trace {
		return runTrace(ctx, a, c, o, queries)
	}
	if o.batch != "" {
		return runBatch(ctx, a, c, o, queries)
	}
	if c.Servers == nil {
		if err := c.System(o.resolv); err != nil {
			return fmt.Errorf("reading %s: %w (give @SERVER)", o.resolv, err)
		}
	}
	failed := false
	var docs []any
	for _, q := range queries {
		ans, err := lookupOne(ctx, c, q)
		if err != nil {
			failed = true
			fmt.Fprintln(a.io.Err, message(fmt.Errorf("%s %s: %w", q.name, dns.TypeToString[q.qtype], err)))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		switch {
		case a.json:
			docs = append(docs, rfc8427(ans))
		case o.short:
			for _, rr := range ans.Msg.Answer {
				fmt.Fprintln(a.io.Out, rdata(rr))
			}
		default:
			writeDig(a.io.Out, q, ans)
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

func (j jsonDoc) MarshalJSON() ([]byte, error)      { return json.Marshal(j.v) }
func (j jsonDoc) writeHuman(io.Writer, style) error { return nil }

// lookupOne asks the names the search list makes of q, stopping at the
// first that exists.
func lookupOne(ctx context.Context, c *dnsclient.Client, q lookupQuery) (*dnsclient.Answer, error) {
	var last *dnsclient.Answer
	for _, n := range c.Names(q.name) {
		ans, err := c.Exchange(ctx, c.NewQuery(n, q.qtype))
		if err != nil {
			if last != nil {
				return last, nil // an earlier name's NXDOMAIN is the answer
			}
			return nil, err
		}
		last = ans
		if ans.Msg.Rcode != dns.RcodeNameError {
			break
		}
	}
	return last, nil
}

func isTypeName(s string) bool {
	u := strings.ToUpper(s)
	if _, ok := dns.StringToType[u]; ok && u != "NONE" && u != "RESERVED" {
		return true
	}
	if rest, ok := strings.CutPrefix(u, "TYPE"); ok {
		n, err := strconv.ParseUint(rest, 10, 16)
		return err == nil && n > 0
	}
	return false
}

func typeOf(s string) uint16 {
	u := strings.ToUpper(s)
	if t, ok := dns.StringToType[u]; ok {
		return t
	}
	n, _ := strconv.ParseUint(strings.TrimPrefix(u, "TYPE"), 10, 16)
	return uint16(n)
}

// rdata is a record's data in presentation format, without the header.
func rdata(rr dns.RR) string {
	return strings.TrimSpace(strings.TrimPrefix(rr.String(), rr.Header().String()))
}

// writeDig prints an answer as dig does.
func writeDig(w io.Writer, q lookupQuery, a *dnsclient.Answer) {
	fmt.Fprintf(w, "; <<>> netkit dns lookup <<>> %s %s @%s\n", q.name, dns.TypeToString[q.qtype], a.Server)
	if a.Retried {
		fmt.Fprintln(w, ";; Truncated, retrying in TCP mode.")
	}
	fmt.Fprintln(w, ";; Got answer:")
	fmt.Fprint(w, a.Msg.String())
	fmt.Fprintf(w, "\n;; Query time: %d msec\n", a.RTT.Milliseconds())
	fmt.Fprintf(w, ";; SERVER: %s(%s)\n", strings.Replace(a.Server.Addr, ":", "#", 1), a.Transport)
	fmt.Fprintf(w, ";; WHEN: %s\n", time.Now().Format("Mon Jan 02 15:04:05 MST 2006"))
	fmt.Fprintf(w, ";; MSG SIZE  rcvd: %d\n\n", a.Size)
}

// rfc8427 renders a message in the JSON shape of RFC 8427.
func rfc8427(a *dnsclient.Answer) map[string]any {
	m := a.Msg
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	doc := map[string]any{
		"ID": m.Id, "QR": b(m.Response), "Opcode": m.Opcode, "AA": b(m.Authoritative), "TC": b(m.Truncated),
		"RD": b(m.RecursionDesired), "RA": b(m.RecursionAvailable), "AD": b(m.AuthenticatedData), "CD": b(m.CheckingDisabled),
		"RCODE": m.Rcode, "QDCOUNT": len(m.Question), "ANCOUNT": len(m.Answer), "NSCOUNT": len(m.Ns), "ARCOUNT": len(m.Extra),
		"rcodeName":  dns.RcodeToString[m.Rcode],
		"dateString": time.Now().UTC().Format(time.RFC3339), "server": a.Server.String(), "transport": a.Transport,
		"queryTimeMs": a.RTT.Milliseconds(), "msgSize": a.Size,
	}
	if len(m.Question) > 0 {
		doc["QNAME"], doc["QTYPE"], doc["QCLASS"] = m.Question[0].Name, m.Question[0].Qtype, m.Question[0].Qclass
		doc["QTYPEname"] = dns.TypeToString[m.Question[0].Qtype]
	}
	rrs := func(list []dns.RR) []map[string]any {
		out := []map[string]any{}
		for _, rr := range list {
			h := rr.Header()
			if h.Rrtype == dns.TypeOPT {
				continue
			}
			e := map[string]any{"NAME": h.Name, "TYPE": h.Rrtype, "TYPEname": dns.TypeToString[h.Rrtype], "CLASS": h.Class, "TTL": h.Ttl}
			if name, ok := dns.TypeToString[h.Rrtype]; ok {
				e["rdata"+name] = rdata(rr)
			} else {
				buf := make([]byte, dns.Len(rr))
				n, err := dns.PackRR(rr, buf, 0, nil, false)
				if err == nil {
					e["RDATAHEX"] = strings.ToUpper(hex.EncodeToString(buf[n-int(h.Rdlength) : n]))
				}
			}
			out = append(out, e)
		}
		return out
	}
	doc["answerRRs"], doc["authorityRRs"], doc["additionalRRs"] = rrs(m.Answer), rrs(m.Ns), rrs(m.Extra)
	if opt := m.IsEdns0(); opt != nil {
		e := map[string]any{"version": opt.Version(), "udpSize": opt.UDPSize(), "DO": b(opt.Do())}
		for _, o := range opt.Option {
			switch v := o.(type) {
			case *dns.EDNS0_NSID:
				id, _ := hex.DecodeString(v.Nsid)
				e["NSID"] = string(id)
			case *dns.EDNS0_COOKIE:
				e["COOKIE"] = v.Cookie
			case *dns.EDNS0_SUBNET:
				e["ECS"] = fmt.Sprintf("%s/%d/%d", v.Address, v.SourceNetmask, v.SourceScope)
			}
		}
		doc["EDNS"] = e
	}
	return doc
}

// runTrace resolves each query iteratively from the root.
func runTrace(ctx context.Context, a *app, c *dnsclient.Client, o lookupOptions, queries []lookupQuery) error {
	if len(c.Servers) > 0 {
		return usageError("--trace asks the root servers; it takes no @SERVER")
	}
	t := &dnsclient.Tracer{Client: c}
	if o.hints != "" {
		roots, err := dnsclient.ReadRootHints(o.hints)
		if err != nil {
			return inputError(fmt.Errorf("--root-hints: %w", err))
		}
		t.Roots = roots
	}
	if !a.json {
		t.OnHop = func(h dnsclient.Hop) {
			line := fmt.Sprintf(";; %s from %s in %d ms: %s", h.Zone, h.Server, h.RTT.Milliseconds(), h.Rcode)
			if h.Err != "" {
				line = fmt.Sprintf(";; %s: %s", h.Zone, h.Err)
			}
			if h.Referral != "" {
				line += fmt.Sprintf(", referral to %s (%s; %d glue)", h.Referral, strings.Join(h.NS, " "), h.Glue)
			}
			fmt.Fprintln(a.io.Out, line)
			for _, rr := range h.Answer {
				fmt.Fprintln(a.io.Out, rr)
			}
		}
	}
	var all [][]dnsclient.Hop
	failed := false
	for _, q := range queries {
		if !a.json {
			fmt.Fprintf(a.io.Out, "; <<>> netkit dns lookup --trace <<>> %s %s\n", q.name, dns.TypeToString[q.qtype])
		}
		hops, err := t.Trace(ctx, q.name, q.qtype)
		all = append(all, hops)
		if err != nil {
			failed = true
			fmt.Fprintln(a.io.Err, message(fmt.Errorf("trace of %s %s: %w", q.name, dns.TypeToString[q.qtype], err)))
		}
	}
	if a.json {
		if err := a.render(jsonDoc{all}); err != nil {
			return err
		}
	}
	if failed {
		return errSilentFailure
	}
	return nil
}

// batchResult is one line of -f output.
type batchResult struct {
	Name   string   `json:"name"`
	Type   string   `json:"type"`
	Rcode  string   `json:"rcode,omitempty"`
	Answer []string `json:"answer,omitempty"`
	RTTms  float64  `json:"rtt_ms"`
	Error  string   `json:"error,omitempty"`
}

func (b batchResult) writeHuman(w io.Writer, _ style) error {
	if b.Error != "" {
		_, err := fmt.Fprintf(w, "%s\t%s\terror\t%s\n", b.Name, b.Type, b.Error)
		return err
	}
	_, err := fmt.Fprintf(w, "%s\t%s\t%s\t%.2f ms\t%s\n", b.Name, b.Type, b.Rcode, b.RTTms, strings.Join(b.Answer, " "))
	return err
}

type batchSummary struct {
	Queries  int     `json:"queries"`
	Answered int     `json:"answered"`
	Failed   int     `json:"failed"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	Seconds  float64 `json:"seconds"`
}

func (b batchSummary) writeHuman(w io.Writer, _ style) error {
	_, err := fmt.Fprintf(w, ";; %d queries in %.2f s: %d answered, %d failed; latency p50 %.2f ms, p99 %.2f ms\n", b.Queries, b.Seconds, b.Answered, b.Failed, b.P50ms, b.P99ms)
	return err
}

// runBatch runs the queries of a file concurrently.
func runBatch(ctx context.Context, a *app, c *dnsclient.Client, o lookupOptions, extra []lookupQuery) error {
	if o.parallel <= 0 {
		return usageError("invalid --parallel %d: it must be positive", o.parallel)
	}
	var r io.Reader = a.io.In
	if o.batch != "-" {
		f, err := os.Open(o.batch)
		if err != nil {
			return inputError(fmt.Errorf("-f: %w", err))
		}
		defer f.Close()
		r = f
	}
	queries := append([]lookupQuery(nil), extra...)
	err := fieldlines.Each(r, o.batch, func(_ int, fs []string) error {
		q := lookupQuery{fs[0], dns.TypeA}
		if _, ok := dns.IsDomainName(fs[0]); !ok || len(fs) > 2 || len(fs) == 2 && !isTypeName(fs[1]) {
			return fmt.Errorf("%q is not \"NAME [TYPE]\" (such as \"example.com MX\")", strings.Join(fs, " "))
		}
		if len(fs) == 2 {
			q.qtype = typeOf(fs[1])
		}
		queries = append(queries, q)
		return nil
	})
	if err != nil {
		return inputError(fmt.Errorf("-f %w", err))
	}
	if len(queries) == 0 {
		return inputError(fmt.Errorf("-f %s: no queries in it", o.batch))
	}
	if c.Servers == nil {
		if err := c.System(o.resolv); err != nil {
			return fmt.Errorf("reading %s: %w (give @SERVER)", o.resolv, err)
		}
	}
	var h perf.Histogram
	var mu sync.Mutex
	sum := batchSummary{Queries: len(queries)}
	start := time.Now()
	sem := make(chan struct{}, o.parallel)
	var wg sync.WaitGroup
	for _, q := range queries {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res := batchResult{Name: q.name, Type: dns.TypeToString[q.qtype]}
			ans, err := lookupOne(ctx, c, q)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.Error = err.Error()
				sum.Failed++
			} else {
				res.Rcode, res.RTTms = dns.RcodeToString[ans.Msg.Rcode], float64(ans.RTT.Microseconds())/1000
				for _, rr := range ans.Msg.Answer {
					res.Answer = append(res.Answer, rdata(rr))
				}
				h.Record(ans.RTT)
				sum.Answered++
			}
			a.emit(res)
		}()
	}
	wg.Wait()
	sum.Seconds = time.Since(start).Seconds()
	sum.P50ms = float64(h.Quantile(0.5).Microseconds()) / 1000
	sum.P99ms = float64(h.Quantile(0.99).Microseconds()) / 1000
	if err := a.emit(sum); err != nil {
		return err
	}
	if sum.Failed > 0 {
		return errSilentFailure
	}
	return nil
}
