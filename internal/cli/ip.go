package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/netkit-dev/netkit/ipcalc"
	"github.com/netkit-dev/netkit/ipset"
	"github.com/spf13/cobra"
)

func newIPCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ip ADDR|PREFIX|RANGE...",
		Short: "Everything about an address, prefix or range; subnetting and address sets",
		Long: `Tell everything about each address (192.0.2.7, fe80::1%eth0), prefix
(192.0.2.0/24, 192.0.2.0/255.255.255.0, or a host and its network:
192.168.0.186/24) or range (192.0.2.10-192.0.2.20): network, netmask and
wildcard, broadcast, first and last usable host (RFC 3021 /31, RFC 6164 /127),
exact counts, integer, hex and binary forms, reverse DNS name and zones, the
IANA special-purpose registry entry, the historic class or IPv6 scope, and
the IPv4 address inside mapped, 6to4, NAT64 and Teredo addresses.

Parsing is strict: leading zeros in IPv4 octets, netmasks that are not
contiguous, prefix lengths out of range and zones on prefixes exit 2.`,
		Example: `  netkit ip 192.168.0.186/24
  netkit ip 2001:db8::/48 --json
  netkit ip 10.0.0.0/255.255.255.0 ::ffff:192.0.2.1 2002:c000:204::1
  netkit ip split 192.0.2.0/24 --hosts 100,50,20,2
  netkit ip merge list.txt`,
		GroupID: groupNetwork,
		Args:    minArgs(1, "an ADDR, PREFIX or RANGE (or a subcommand: info, merge, diff, intersect, range, contains, split, supernet, nth, random)"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return runIPInfo(a, args)
		}),
	}
	info := &cobra.Command{
		Use:     "info ADDR|PREFIX|RANGE...",
		Short:   "Everything about addresses, prefixes or ranges (the same as netkit ip X)",
		Example: "  netkit ip info 192.0.2.0/26 2001:db8::1",
		Args:    minArgs(1, "an ADDR, PREFIX or RANGE"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return runIPInfo(a, args)
		}),
	}
	cmd.AddCommand(info, newIPMergeCmd(a), newIPSetOpCmd(a, "diff"), newIPSetOpCmd(a, "intersect"),
		newIPRangeCmd(a), newIPContainsCmd(a), newIPSplitCmd(a), newIPSupernetCmd(a), newIPNthCmd(a), newIPRandomCmd(a))
	return cmd
}

// parseEntryArg parses an address, prefix or range argument.
func parseEntryArg(s string) (ipset.Entry, error) {
	e, err := ipset.ParseEntry(s)
	if err != nil {
		return ipset.Entry{}, inputError(err)
	}
	return e, nil
}

type ipInfoResult []ipcalc.Facts

func runIPInfo(a *app, args []string) error {
	var res ipInfoResult
	for _, s := range args {
		e, err := parseEntryArg(s)
		if err != nil {
			return err
		}
		res = append(res, ipcalc.Describe(s, e))
	}
	return a.render(res)
}

func (r ipInfoResult) writeHuman(w io.Writer, st style) error {
	var b strings.Builder
	for i, f := range r {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(st.bold(f.Input) + "\n")
		t := newTable()
		row := func(k, v string) {
			if v != "" {
				t.add("  "+k, v)
			}
		}
		row("address", f.Address)
		if f.Kind == "range" {
			row("range", f.First+" - "+f.Last)
			var ps []string
			for _, p := range f.Prefixes {
				ps = append(ps, p.String())
			}
			row("prefixes", strings.Join(ps, " "))
		} else {
			row("network", fmt.Sprintf("%s/%d", f.Network, *f.PrefixLength))
			if f.Netmask != "" {
				row("netmask", fmt.Sprintf("%s = /%d", f.Netmask, *f.PrefixLength))
			}
			row("wildcard", f.Wildcard)
			row("broadcast", f.Broadcast)
			row("first", f.First)
			row("last", f.Last)
		}
		row("usable", f.Usable)
		row("total", f.Total)
		row("integer", f.Integer)
		row("hex", f.Hex)
		row("binary", f.Binary)
		row("reverse", f.ReverseName)
		if len(f.ReverseZones) > 0 {
			z := strings.Join(f.ReverseZones, " ")
			if len(f.ReverseZones) > 4 {
				z = fmt.Sprintf("%s ... %s (%d zones)", f.ReverseZones[0], f.ReverseZones[len(f.ReverseZones)-1], len(f.ReverseZones))
			}
			row("zone", z)
		}
		row("class", f.Class)
		row("scope", f.Scope)
		if f.Type != "" {
			typ := f.Type
			if f.RFC != "" {
				typ += " (" + f.RFC + ")"
			}
			row("type", typ)
		}
		if e := f.Registry; e != nil {
			row("registry", fmt.Sprintf("%s: source %s, destination %s, forwardable %s, globally reachable %s, reserved by protocol %s",
				e.Block, e.Source, e.Destination, e.Forwardable, e.Global, e.ReservedByProtocol))
		}
		row("private", yesNo(f.Private))
		row("global", yesNo(f.Global))
		if e := f.EmbeddedIPv4; e != nil {
			v := fmt.Sprintf("%s (%s)", e.Address, e.How)
			if e.How == "teredo" {
				v = fmt.Sprintf("client %s port %d, server %s (teredo)", e.Address, e.Port, e.TeredoServer)
			}
			row("ipv4", v)
		}
		t.write(&b, st)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

// readLists reads address lists (files, or "-" for stdin) into a builder.
func (a *app) readLists(b *ipset.Builder, names []string, skipInvalid bool) error {
	var skip func(*ipset.LineError)
	if skipInvalid {
		skip = func(le *ipset.LineError) {
			if a.verbose > 0 {
				fmt.Fprintf(a.io.Err, "netkit: skipped %v\n", le)
			}
		}
	}
	if len(names) == 0 {
		names = []string{"-"}
	}
	for _, name := range names {
		var r io.Reader = a.io.In
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				return inputError(fmt.Errorf("open list: %w", err))
			}
			defer f.Close()
			r = f
			if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
				// Count first, then read into slices of the right size:
				// a second pass over a file in the page cache costs less
				// than the copies and memory of growing slices.
				if n4, n6, err := ipset.CountList(f); err == nil {
					b.Grow(n4, n6)
				}
				if _, err := f.Seek(0, io.SeekStart); err != nil {
					return fmt.Errorf("read list %s: %w", name, err)
				}
			}
		}
		if err := b.ReadList(r, name, skip); err != nil {
			var le *ipset.LineError
			if errors.As(err, &le) {
				return inputError(err)
			}
			return err
		}
	}
	return nil
}

type setOutput struct {
	ranges bool
	count  bool
}

// writeSet prints a set as prefixes (or ranges), or its size.
func (a *app) writeSet(s ipset.Set, o setOutput) error {
	if o.count {
		v4, v6 := s.Count()
		if a.json {
			return a.render(countResult{IPv4: v4.String(), IPv6: v6.String()})
		}
		return countResult{IPv4: v4.String(), IPv6: v6.String()}.writeHuman(a.io.Out, a.outStyle())
	}
	if a.json {
		var items []string
		if o.ranges {
			for r := range s.AllRanges() {
				items = append(items, r.String())
			}
		} else {
			for p := range s.All() {
				items = append(items, p.String())
			}
		}
		return a.render(listResult{Items: items})
	}
	w := bufio.NewWriterSize(a.io.Out, 64<<10)
	buf := make([]byte, 0, 100)
	if o.ranges {
		for r := range s.AllRanges() {
			buf = append(r.AppendTo(buf[:0]), '\n')
			w.Write(buf)
		}
	} else {
		for p := range s.All() {
			buf = append(p.AppendTo(buf[:0]), '\n')
			w.Write(buf)
		}
	}
	return w.Flush()
}

type countResult struct {
	IPv4 string `json:"ipv4"`
	IPv6 string `json:"ipv6"`
}

func (c countResult) writeHuman(w io.Writer, st style) error {
	_, err := fmt.Fprintf(w, "ipv4 %s\nipv6 %s\n", c.IPv4, c.IPv6)
	return err
}

type listResult struct {
	Items []string `json:"items"`
}

func (l listResult) writeHuman(w io.Writer, st style) error {
	for _, s := range l.Items {
		if _, err := fmt.Fprintln(w, s); err != nil {
			return err
		}
	}
	return nil
}

func newIPMergeCmd(a *app) *cobra.Command {
	var o setOutput
	var skipInvalid bool
	cmd := &cobra.Command{
		Use:   "merge [FILE...]",
		Short: "Aggregate address lists to the fewest prefixes",
		Long: `Read lists of addresses, prefixes and ranges (one per line, IPv4 and IPv6
mixed; '#' comments and blank lines skipped; stdin when no FILE or "-") and
print the fewest prefixes that cover exactly the same addresses, sorted,
IPv4 first. A bad line is reported as FILE:LINE and exits 2, unless
--skip-invalid.`,
		Example: `  netkit ip merge blocklist.txt
  cat a.txt b.txt | netkit ip merge --ranges
  netkit ip merge --count list.txt`,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			var b ipset.Builder
			if err := a.readLists(&b, args, skipInvalid); err != nil {
				return err
			}
			return a.writeSet(b.Finish(), o)
		}),
	}
	cmd.Flags().BoolVar(&o.ranges, "ranges", false, "print ranges FIRST-LAST instead of prefixes")
	cmd.Flags().BoolVar(&o.count, "count", false, "print only how many addresses the list holds")
	cmd.Flags().BoolVar(&skipInvalid, "skip-invalid", false, "skip bad lines (-v reports them) instead of failing")
	return cmd
}

func newIPSetOpCmd(a *app, op string) *cobra.Command {
	var o setOutput
	short := map[string]string{
		"diff":      "Addresses in list A that are not in list B",
		"intersect": "Addresses in both list A and list B",
	}[op]
	cmd := &cobra.Command{
		Use:     op + " A B",
		Short:   short,
		Long:    short + `. A and B are files of addresses, prefixes and ranges, or "-" for stdin (one of them). The result is printed as the fewest prefixes.`,
		Example: fmt.Sprintf("  netkit ip %s allowed.txt blocked.txt\n  echo 10.0.0.0/8 | netkit ip %s - private.txt", op, op),
		Args:    exactArgs(2, "two lists, A and B"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			if args[0] == "-" && args[1] == "-" {
				return usageError("only one of A and B can be stdin")
			}
			var ba, bb ipset.Builder
			if err := a.readLists(&ba, args[:1], false); err != nil {
				return err
			}
			if err := a.readLists(&bb, args[1:], false); err != nil {
				return err
			}
			sa, sb := ba.Finish(), bb.Finish()
			if op == "diff" {
				return a.writeSet(sa.Difference(sb), o)
			}
			return a.writeSet(sa.Intersect(sb), o)
		}),
	}
	cmd.Flags().BoolVar(&o.ranges, "ranges", false, "print ranges FIRST-LAST instead of prefixes")
	cmd.Flags().BoolVar(&o.count, "count", false, "print only how many addresses the result holds")
	return cmd
}

func newIPRangeCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "range FIRST LAST",
		Short:   "The fewest prefixes that cover a range of addresses",
		Example: "  netkit ip range 192.0.2.10 192.0.2.20\n  netkit ip range 2001:db8:: 2001:db8::ff",
		Args:    exactArgs(2, "FIRST and LAST addresses"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			e, err := parseEntryArg(args[0] + "-" + args[1])
			if err != nil {
				return err
			}
			var items []string
			for _, p := range e.Range.Prefixes() {
				items = append(items, p.String())
			}
			return a.render(listResult{Items: items})
		}),
	}
}

type containsResult struct {
	Network string          `json:"network"`
	Results []containsEntry `json:"results"`
}

type containsEntry struct {
	Input  string `json:"input"`
	Inside bool   `json:"inside"`
}

func (r containsResult) writeHuman(w io.Writer, st style) error {
	for _, e := range r.Results {
		verdict := st.green("in")
		if !e.Inside {
			verdict = st.red("not in")
		}
		if _, err := fmt.Fprintf(w, "%s %s %s\n", e.Input, verdict, r.Network); err != nil {
			return err
		}
	}
	return nil
}

func newIPContainsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "contains NET ADDR...",
		Short: "Whether addresses (or prefixes, ranges) lie inside NET; exit 1 if any does not",
		Example: `  netkit ip contains 192.0.2.0/24 192.0.2.7 198.51.100.1
  netkit ip contains 10.0.0.0/8 10.1.0.0/16 && echo inside`,
		Args: minArgs(2, "a NET and at least one ADDR"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			netE, err := parseEntryArg(args[0])
			if err != nil {
				return err
			}
			var b ipset.Builder
			b.AddRange(netE.Range)
			set := b.Finish()
			res := containsResult{Network: args[0]}
			all := true
			for _, s := range args[1:] {
				e, err := parseEntryArg(s)
				if err != nil {
					return err
				}
				var eb ipset.Builder
				eb.AddRange(e.Range)
				inside := eb.Finish().Difference(set).IsEmpty()
				all = all && inside
				res.Results = append(res.Results, containsEntry{Input: s, Inside: inside})
			}
			if err := a.render(res); err != nil {
				return err
			}
			if !all {
				return errSilentFailure
			}
			return nil
		}),
	}
}

func newIPSplitCmd(a *app) *cobra.Command {
	var prefix, count int
	var hosts string
	cmd := &cobra.Command{
		Use:   "split PREFIX (--prefix N | --count N | --hosts N,N,...)",
		Short: "Subnetting: split a prefix by length, by count, or by host counts (VLSM)",
		Long: `Split PREFIX into subnets: every subnet of length N (--prefix), N subnets of
equal size (--count), or one subnet per host count, each the smallest with
that many usable hosts, placed largest first (--hosts, VLSM). --hosts says
which requests do not fit and what space is left.`,
		Example: `  netkit ip split 192.0.2.0/24 --prefix 26
  netkit ip split 10.0.0.0/8 --count 3
  netkit ip split 192.0.2.0/24 --hosts 100,50,20,2`,
		Args: exactArgs(1, "one PREFIX"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			e, err := parseEntryArg(args[0])
			if err != nil {
				return err
			}
			if e.Kind != ipset.KindPrefix {
				return inputError(fmt.Errorf("split takes a prefix, not %q", args[0]))
			}
			p := e.Prefix.Masked()
			set := 0
			for _, name := range []string{"prefix", "count", "hosts"} {
				if cmd.Flags().Changed(name) {
					set++
				}
			}
			if set != 1 {
				return usageError("give exactly one of --prefix, --count and --hosts")
			}
			switch {
			case cmd.Flags().Changed("prefix"):
				seq, err := ipcalc.Subnets(p, prefix)
				if err != nil {
					return inputError(err)
				}
				if a.json {
					var items []string
					for s := range seq {
						items = append(items, s.String())
					}
					return a.render(listResult{Items: items})
				}
				w := bufio.NewWriter(a.io.Out)
				for s := range seq {
					w.WriteString(s.String() + "\n")
				}
				return w.Flush()
			case cmd.Flags().Changed("count"):
				ps, err := ipcalc.SplitCount(p, count)
				if err != nil {
					return inputError(err)
				}
				var items []string
				for _, s := range ps {
					items = append(items, s.String())
				}
				return a.render(listResult{Items: items})
			}
			var hs []int
			for _, f := range strings.Split(hosts, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil || n < 1 {
					return usageError("invalid --hosts %q: want positive counts separated by commas, as 100,50,2", hosts)
				}
				hs = append(hs, n)
			}
			allocs, free, err := ipcalc.SplitHosts(p, hs)
			if err != nil {
				return inputError(err)
			}
			res := vlsmResult{Allocations: allocs, Free: free}
			if err := a.render(res); err != nil {
				return err
			}
			for _, al := range allocs {
				if !al.Prefix.IsValid() {
					return errSilentFailure
				}
			}
			return nil
		}),
	}
	cmd.Flags().IntVar(&prefix, "prefix", 0, "split into every subnet of this length")
	cmd.Flags().IntVar(&count, "count", 0, "split into this many subnets of equal size")
	cmd.Flags().StringVar(&hosts, "hosts", "", "one subnet per host count, as 100,50,2 (VLSM)")
	return cmd
}

type vlsmResult struct {
	Allocations []ipcalc.Allocation `json:"allocations"`
	Free        []netip.Prefix      `json:"free"`
}

func (r vlsmResult) writeHuman(w io.Writer, st style) error {
	t := newTable("HOSTS", "SUBNET", "USABLE").alignRight(0, 2)
	for _, al := range r.Allocations {
		if al.Prefix.IsValid() {
			t.add(strconv.Itoa(al.Hosts), al.Prefix.String(), al.Usable)
		} else {
			t.add(strconv.Itoa(al.Hosts), st.red("does not fit"), "")
		}
	}
	if err := t.write(w, st); err != nil {
		return err
	}
	var free []string
	for _, p := range r.Free {
		free = append(free, p.String())
	}
	if len(free) == 0 {
		free = []string{"none"}
	}
	_, err := fmt.Fprintf(w, "free: %s\n", strings.Join(free, " "))
	return err
}

func newIPSupernetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "supernet PREFIX...",
		Short:   "The smallest prefix that holds all the prefixes (or addresses) given",
		Example: "  netkit ip supernet 192.0.2.0/25 192.0.3.0/24",
		Args:    minArgs(1, "at least one PREFIX"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			var ps []netip.Prefix
			for _, s := range args {
				e, err := parseEntryArg(s)
				if err != nil {
					return err
				}
				ps = append(ps, e.Range.Prefixes()...)
			}
			p, err := ipcalc.SupernetOf(ps...)
			if err != nil {
				return inputError(errors.New(strings.TrimPrefix(err.Error(), "ipcalc: ")))
			}
			return a.render(listResult{Items: []string{p.String()}})
		}),
	}
}

func newIPNthCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "nth NET N",
		Short:   "The N-th address of a network, from 0; negative N counts back from the end",
		Example: "  netkit ip nth 192.0.2.0/24 10\n  netkit ip nth 2001:db8::/64 -1",
		Args:    exactArgs(2, "a NET and an index N"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			e, err := parseEntryArg(args[0])
			if err != nil {
				return err
			}
			n, ok := new(big.Int).SetString(args[1], 10)
			if !ok {
				return usageError("invalid index %q: want a whole number, negative to count from the end", args[1])
			}
			if e.Kind == ipset.KindRange {
				return inputError(fmt.Errorf("nth takes a prefix, not the range %q", args[0]))
			}
			p := entryPrefix(e)
			x, err := ipcalc.Nth(p, n)
			if err != nil {
				return inputError(errors.New(strings.TrimPrefix(err.Error(), "ipcalc: ")))
			}
			return a.render(listResult{Items: []string{x.String()}})
		}),
	}
}

// entryPrefix is the network of a prefix entry, or the single address's
// own /32 or /128.
func entryPrefix(e ipset.Entry) netip.Prefix {
	if e.Kind == ipset.KindPrefix {
		return e.Prefix.Masked()
	}
	return netip.PrefixFrom(e.Range.From(), e.Range.From().BitLen())
}

func newIPRandomCmd(a *app) *cobra.Command {
	var n int
	cmd := &cobra.Command{
		Use:     "random NET",
		Short:   "Random addresses inside a network (from crypto/rand)",
		Example: "  netkit ip random 2001:db8::/64\n  netkit ip random 192.0.2.0/24 -n 5",
		Args:    exactArgs(1, "a NET"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			if n < 1 {
				return usageError("invalid -n %d: ask for at least one address", n)
			}
			e, err := parseEntryArg(args[0])
			if err != nil {
				return err
			}
			if e.Kind == ipset.KindRange {
				return inputError(fmt.Errorf("random takes a prefix, not the range %q", args[0]))
			}
			var items []string
			for range n {
				x, err := ipcalc.Random(entryPrefix(e))
				if err != nil {
					return err
				}
				items = append(items, x.String())
			}
			return a.render(listResult{Items: items})
		}),
	}
	cmd.Flags().IntVarP(&n, "count", "n", 1, "how many addresses")
	return cmd
}
