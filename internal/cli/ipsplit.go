package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/netip"
	"strconv"
	"strings"

	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/ipcalc"
	"github.com/netkit-dev/netkit/ipset"
	"github.com/spf13/cobra"
)

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
					return ipcalcError(err)
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
					return ipcalcError(err)
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
				return ipcalcError(err)
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

func (r vlsmResult) writeHuman(w io.Writer, st textui.Style) error {
	t := textui.NewTable("HOSTS", "SUBNET", "USABLE").AlignRight(0, 2)
	for _, al := range r.Allocations {
		if al.Prefix.IsValid() {
			t.Add(strconv.Itoa(al.Hosts), al.Prefix.String(), al.Usable.String())
		} else {
			t.Add(strconv.Itoa(al.Hosts), st.Red("does not fit"), "")
		}
	}
	if err := t.Write(w, st); err != nil {
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
				return ipcalcError(err)
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
				return ipcalcError(err)
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

// ipcalcError reports what address arithmetic could not do as bad input.
func ipcalcError(err error) error {
	if ie, ok := errors.AsType[*ipcalc.Error](err); ok {
		return inputError(errors.New(ie.Reason))
	}
	return err
}
