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
	"github.com/netkit-dev/netkit/internal/textui"
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
	var obsoletedBy []string
	if ix, err := c.Index(ctx); err == nil {
		if e, ok := ix.Lookup(n); ok && e.Obsolete() {
			obsoletedBy = e.ObsoletedBy
			banner = fmt.Sprintf("RFC %d is obsoleted by %s.\n\n", n, strings.Join(e.ObsoletedBy, ", "))
		}
	} else {
		a.logger().Info("no obsolete check: the index is not available", "err", err)
	}
	if a.json {
		return a.render(rfcText{Number: n, URL: doc.URL, Source: string(doc.Source), Warning: doc.Warning, ObsoletedBy: obsoletedBy, Text: string(doc.Text)})
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

// rfcText is netkit rfc N --json.
type rfcText struct {
	Number      int      `json:"number"`
	URL         string   `json:"url"`
	Source      string   `json:"source"` // network, cache, revalidated, stale
	Warning     string   `json:"warning,omitempty"`
	ObsoletedBy []string `json:"obsoleted_by"`
	Text        string   `json:"text"`
}

func (rfcText) writeHuman(io.Writer, textui.Style) error { return nil }

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
