package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/netkit-dev/netkit/httpwire"
	"github.com/netkit-dev/netkit/rfc"
	"github.com/spf13/cobra"
)

type rfcOptions struct {
	mirror   string
	cacheDir string
	offline  bool
	wire     bool
	noPager  bool
}

func newRFCCmd(a *app) *cobra.Command {
	var o rfcOptions
	cmd := &cobra.Command{
		Use:   "rfc N",
		Short: "Read RFCs: fetch, cache, look up and search (the RFC downloader)",
		Long: `Print RFC N's text, fetched from the RFC Editor
(https://www.rfc-editor.org/rfc/rfcN.txt; another base URL with --mirror or
NETKIT_RFC_MIRROR) and kept in the cache directory
($XDG_CACHE_HOME/netkit/rfc, or ~/.cache/netkit/rfc). A cached text is
revalidated with If-None-Match or If-Modified-Since, so a second read costs
one small exchange; --offline reads the cache only. Numbers that do not
exist are remembered for a day.

It fetches with Go's net/http, the highest-level client there is (the
tutorials' lesson); --wire fetches with netkit's hand-written HTTP/1.1
client instead and shows the exchange on stderr. Both give the same bytes.

An RFC that a later one obsoletes is printed after an "obsoleted by"
banner (on stderr when stdout is not a terminal, so the text stays exact).
On a terminal the text goes through $PAGER (default less).

Exits 1 if the RFC does not exist or cannot be fetched, 2 if N is not a
positive integer.`,
		Example: `  netkit rfc 791
  netkit rfc 9293 --no-pager | head -20
  netkit rfc info 793
  netkit rfc search transmission control --exclude-obsolete
  netkit rfc --wire 791 >/dev/null`,
		GroupID: groupApplication,
		Args:    exactArgs(1, "one RFC number (or a subcommand: info, search)"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			n, err := parseRFCNumber(args[0])
			if err != nil {
				return err
			}
			return runRFCText(ctx, a, o, n)
		}),
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.mirror, "mirror", "", "base `URL` of the RFC Editor or a mirror (default $NETKIT_RFC_MIRROR or "+rfc.DefaultMirror+")")
	pf.StringVar(&o.cacheDir, "cache-dir", "", "the cache `DIR` (default $XDG_CACHE_HOME/netkit/rfc)")
	pf.BoolVar(&o.offline, "offline", false, "use the cache only")
	pf.BoolVar(&o.wire, "wire", false, "fetch with netkit's own HTTP/1.1 client and show the exchange on stderr")
	cmd.Flags().BoolVar(&o.noPager, "no-pager", false, "do not page the text on a terminal")
	cmd.AddCommand(newRFCInfoCmd(a, &o), newRFCSearchCmd(a, &o))
	return cmd
}

// parseRFCNumber reads "791", "RFC791" or "rfc791".
func parseRFCNumber(s string) (int, error) {
	digits := s
	if len(s) > 3 && strings.EqualFold(s[:3], "rfc") {
		digits = s[3:]
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n <= 0 || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, inputError(fmt.Errorf("invalid RFC number %q: RFC numbers are positive integers, such as 791", s))
	}
	return n, nil
}

// client builds the fetcher from the flags and the environment.
func (o *rfcOptions) client(a *app) (*rfc.Client, error) {
	c := &rfc.Client{Mirror: o.mirror, CacheDir: o.cacheDir, Offline: o.offline}
	if c.Mirror == "" {
		c.Mirror = a.io.getenv("NETKIT_RFC_MIRROR")
	}
	if c.Mirror != "" {
		if _, err := httpwire.ParseURL(c.Mirror); err != nil {
			return nil, inputError(fmt.Errorf("--mirror: %w", err))
		}
	}
	if c.CacheDir == "" {
		base := a.io.getenv("XDG_CACHE_HOME")
		if base == "" {
			if home := a.io.getenv("HOME"); home != "" {
				base = filepath.Join(home, ".cache")
			}
		}
		if base != "" {
			c.CacheDir = filepath.Join(base, "netkit", "rfc")
		}
	}
	if o.wire {
		c.Wire = &httpwire.Client{FollowRedirects: true, UserAgent: "netkit/" + buildVersion().Version, Trace: httpwire.WireTrace(a.io.Err, 0)}
	}
	return c, nil
}

func runRFCText(ctx context.Context, a *app, o rfcOptions, n int) error {
	c, err := o.client(a)
	if err != nil {
		return err
	}
	if c.Wire != nil {
		defer c.Wire.CloseIdle()
	}
	doc, err := c.Text(ctx, n)
	if err != nil {
		return err
	}
	a.logger().Info("rfc", "number", n, "source", doc.Source, "url", doc.URL)
	if doc.Warning != "" {
		fmt.Fprintf(a.io.Err, "netkit: warning: using the cached copy of RFC %d; the mirror could not be asked: %s\n", n, doc.Warning)
	}
	banner := ""
	if ix, err := c.Index(ctx); err == nil {
		if e, ok := ix.Lookup(n); ok && e.Obsolete() {
			banner = fmt.Sprintf("RFC %d is obsoleted by %s.\n\n", n, strings.Join(e.ObsoletedBy, ", "))
		}
	} else {
		a.logger().Info("no obsolete check: the index is not available", "err", err)
	}
	if a.io.OutTTY && !o.noPager {
		return page(a, banner, doc.Text)
	}
	if banner != "" {
		io.WriteString(a.io.Err, "netkit: "+banner)
	}
	_, err = a.io.Out.Write(doc.Text)
	return err
}

// page shows text through $PAGER, or prints it when there is no pager.
func page(a *app, banner string, text []byte) error {
	pager := a.io.getenv("PAGER")
	if pager == "" {
		pager = "less"
	}
	argv := strings.Fields(pager)
	if path, err := exec.LookPath(argv[0]); err == nil && argv[0] != "cat" {
		cmd := exec.Command(path, argv[1:]...)
		cmd.Stdin = io.MultiReader(strings.NewReader(banner), bytes.NewReader(text))
		cmd.Stdout, cmd.Stderr = a.io.Out, a.io.Err
		if err := cmd.Run(); err == nil {
			return nil
		}
	}
	io.WriteString(a.io.Out, banner)
	_, err := a.io.Out.Write(text)
	return err
}

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

func (r rfcInfo) writeHuman(w io.Writer, st style) error {
	e := r.Entry
	fmt.Fprintf(w, "%s\n", st.bold(fmt.Sprintf("RFC %d: %s", e.Number, e.Title)))
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
		fmt.Fprintf(w, "\n%s\n", wrap(e.Abstract, 76, "  "))
	}
	return nil
}

// wrap fills text to width, each line indented.
func wrap(text string, width int, indent string) string {
	var b strings.Builder
	for i, para := range strings.Split(text, "\n\n") {
		if i > 0 {
			b.WriteString("\n\n")
		}
		line := indent
		for _, w := range strings.Fields(para) {
			if len(line) > len(indent) && len(line)+1+len(w) > width {
				b.WriteString(line + "\n")
				line = indent
			}
			if len(line) > len(indent) {
				line += " "
			}
			line += w
		}
		b.WriteString(line)
	}
	return b.String()
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

func (r rfcSearch) writeHuman(w io.Writer, st style) error {
	if len(r.Results) == 0 {
		return nil
	}
	t := newTable("RFC", "DATE", "STATUS", "TITLE").alignRight(0)
	for _, e := range r.Results {
		title := e.Title
		if e.Obsolete() {
			title += " (obsoleted by " + strings.Join(e.ObsoletedBy, ", ") + ")"
		}
		t.add(strconv.Itoa(e.Number), e.Date(), strings.ToLower(e.Status), title)
	}
	if err := t.write(w, st); err != nil {
		return err
	}
	if r.Total > len(r.Results) {
		fmt.Fprintf(w, "(%d more; -n 0 shows all)\n", r.Total-len(r.Results))
	}
	return nil
}
