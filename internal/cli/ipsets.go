package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/ipset"
	"github.com/spf13/cobra"
)

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
		var err error
		if name == "-" {
			err = b.ReadList(a.io.In, name, skip)
		} else {
			err = b.ReadFile(name, skip)
		}
		if err != nil {
			var le *ipset.LineError
			if errors.As(err, &le) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
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

func (c countResult) writeHuman(w io.Writer, st textui.Style) error {
	_, err := fmt.Fprintf(w, "ipv4 %s\nipv6 %s\n", c.IPv4, c.IPv6)
	return err
}

type listResult struct {
	Items []string `json:"items"`
}

func (l listResult) writeHuman(w io.Writer, st textui.Style) error {
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

func (r containsResult) writeHuman(w io.Writer, st textui.Style) error {
	for _, e := range r.Results {
		verdict := st.Green("in")
		if !e.Inside {
			verdict = st.Red("not in")
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
