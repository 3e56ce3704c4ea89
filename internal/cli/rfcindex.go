package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/rfc"
	"github.com/spf13/cobra"
)

func newRFCInfoCmd(a *app, o *rfcOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "info N",
		Short: "Title, authors, date, status and relations of an RFC",
		Long: `Show what the RFC Editor's index (rfc-index.xml, fetched once and cached,
revalidated daily) says about RFC N: title, authors, date, status, and the
RFCs it obsoletes and updates and that obsolete and update it.`,
		Example: `  netkit rfc info 791
  netkit rfc info --json 793`,
		Args: exactArgs(1, "one RFC number"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			n, err := parseRFCNumber(args[0])
			if err != nil {
				return err
			}
			c, err := o.client(a)
			if err != nil {
				return err
			}
			ix, err := c.Index(ctx)
			if err != nil {
				return err
			}
			e, ok := ix.Lookup(n)
			switch {
			case !ok && ix.NotIssued[n]:
				return fmt.Errorf("RFC %d was never issued (the number was assigned and not used)", n)
			case !ok:
				return fmt.Errorf("RFC %d is not in the index of %s", n, c.IndexURL())
			}
			return a.render(rfcInfo{e})
		}),
	}
}

type rfcInfo struct{ *rfc.Entry }

func (r rfcInfo) writeHuman(w io.Writer, st textui.Style) error {
	e := r.Entry
	fmt.Fprintf(w, "%s\n", st.Bold(fmt.Sprintf("RFC %d: %s", e.Number, e.Title)))
	rows := [][2]string{
		{"authors", strings.Join(e.Authors, ", ")},
		{"date", e.Date()},
		{"status", e.Status},
		{"stream", e.Stream},
		{"pages", strconv.Itoa(e.Pages)},
		{"obsoletes", strings.Join(e.Obsoletes, ", ")},
		{"obsoleted by", strings.Join(e.ObsoletedBy, ", ")},
		{"updates", strings.Join(e.Updates, ", ")},
		{"updated by", strings.Join(e.UpdatedBy, ", ")},
		{"also", strings.Join(e.IsAlso, ", ")},
		{"keywords", strings.Join(e.Keywords, ", ")},
		{"doi", e.DOI},
	}
	for _, row := range rows {
		if row[1] == "" || row[1] == "0" {
			continue
		}
		fmt.Fprintf(w, "  %-13s %s\n", row[0], row[1])
	}
	if e.Abstract != "" {
		fmt.Fprintf(w, "\n%s\n", textui.Wrap(e.Abstract, 76, "  "))
	}
	return nil
}

func newRFCSearchCmd(a *app, o *rfcOptions) *cobra.Command {
	var limit int
	var exclude bool
	cmd := &cobra.Command{
		Use:   "search WORDS...",
		Short: "Search RFC titles, keywords and abstracts",
		Long: `Rank the RFCs whose title, keywords or abstract hold every word (whole
words, any case): a word in the title weighs most, then keywords, then the
abstract; rare words weigh more than common ones. Ties go to the newer RFC.
Exits 1 when nothing matches.`,
		Example: `  netkit rfc search transmission control protocol
  netkit rfc search --exclude-obsolete -n 5 dns security`,
		Args: minArgs(1, "at least one word"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			if limit < 0 {
				return usageError("invalid -n %d: it may not be negative", limit)
			}
			c, err := o.client(a)
			if err != nil {
				return err
			}
			ix, err := c.Index(ctx)
			if err != nil {
				return err
			}
			res := ix.Search(args, exclude)
			total := len(res)
			if limit > 0 && len(res) > limit {
				res = res[:limit]
			}
			if err := a.render(rfcSearch{Query: strings.Join(args, " "), Total: total, Results: res}); err != nil {
				return err
			}
			if total == 0 {
				if !a.json {
					fmt.Fprintf(a.io.Err, "netkit: no RFC matches %q\n", strings.Join(args, " "))
				}
				return errSilentFailure
			}
			return nil
		}),
	}
	cmd.Flags().IntVarP(&limit, "limit", "n", 20, "show at most this many (0 for all)")
	cmd.Flags().BoolVar(&exclude, "exclude-obsolete", false, "leave out RFCs that later ones obsolete")
	return cmd
}

type rfcSearch struct {
	Query   string       `json:"query"`
	Total   int          `json:"total"`
	Results []rfc.Result `json:"results"`
}

func (r rfcSearch) writeHuman(w io.Writer, st textui.Style) error {
	if len(r.Results) == 0 {
		return nil
	}
	t := textui.NewTable("RFC", "DATE", "STATUS", "TITLE").AlignRight(0)
	for _, e := range r.Results {
		title := e.Title
		if e.Obsolete() {
			title += " (obsoleted by " + strings.Join(e.ObsoletedBy, ", ") + ")"
		}
		t.Add(strconv.Itoa(e.Number), e.Date(), strings.ToLower(e.Status), title)
	}
	if err := t.Write(w, st); err != nil {
		return err
	}
	if r.Total > len(r.Results) {
		fmt.Fprintf(w, "(%d more; -n 0 shows all)\n", r.Total-len(r.Results))
	}
	return nil
}
