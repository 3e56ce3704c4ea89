package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/netkit-dev/netkit/httpwire"
	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/spf13/cobra"
)

type httpOptions struct {
	method     string
	urls       []string
	headers    []string
	outputs    []string
	data       []string
	dataBinary string
	include    bool
	wire       bool
	timing     bool
	location   bool
	maxRedirs  int
	compressed bool
	insecure   bool
	cacert     string
	userAgent  string
	fail       bool
	items      httpwire.Items
	form       bool
	extract    extractFlags
	paginate   bool
	maxPages   int
	session    string
	cookies    string
	http11     bool
}

func newHTTPCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "http",
		Short:   "HTTP/1.1 over a raw socket, with a hand-written client",
		GroupID: groupApplication,
		Args:    noArgs,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return usageError("netkit http needs a subcommand: get, head, post, put, patch, delete, request or serve")
		}),
	}
	cmd.AddCommand(
		newHTTPMethodCmd(a, "get", "GET"),
		newHTTPMethodCmd(a, "head", "HEAD"),
		newHTTPMethodCmd(a, "post", "POST"),
		newHTTPMethodCmd(a, "put", "PUT"),
		newHTTPMethodCmd(a, "patch", "PATCH"),
		newHTTPMethodCmd(a, "delete", "DELETE"),
		newHTTPMethodCmd(a, "request", ""),
		newHTTPServeCmd(a),
	)
	return cmd
}

const httpLong = `Speaks HTTP/1.1 (RFC 9110, RFC 9112) with netkit's own client, over a TCP
or TLS connection that it opens itself: the request is written byte by byte
and the response parsed by hand, strictly. Several URLs are fetched in
order over one kept-alive connection per server.

The body goes to stdout, or to the file of -o (given once per URL, in
order; a progress bar shows on a terminal). -i prints the status line and
headers first. --wire shows, on stderr, the exact bytes sent (> lines) and
the response heads received (< lines), as curl -v does; --timing shows how
long DNS, connect, TLS, sending, the first byte and the transfer took.
--json prints status, headers, timing and body size for each URL instead
of the body.

Request items after the URL, as HTTPie takes them: Name:value (a header;
Name: leaves out a default one), name==value (a query parameter),
name=value (a JSON string field, or a form field with --form), name:=JSON (a
raw JSON value), name=@FILE and name:=@FILE (a field from a file), and
name@FILE (a file, in a multipart form with --form). Fields make a JSON
object body, in the order given. A URL after the first must start with
http:// or https://.

--jq runs a jq program over a JSON body, --select a CSS selector over an
HTML body (its character set from the header, a BOM or a <meta> tag; with
--attr or --text), --xpath an XPath over an XML body, and prints what they
find instead of the body. --paginate follows Link: rel="next" headers and
prints each page on one line (NDJSON), or what --jq finds on each page.

Responses that break HTTP/1.1's framing (conflicting Content-Length, bad
chunk sizes, obsolete line folding, a body cut short) fail with the reason.
Exits 0 when every response arrived, whatever its status (as curl; --fail
makes a status of 400 or more fail), 1 when one did not, 2 for bad input.`

func newHTTPMethodCmd(a *app, use, method string) *cobra.Command {
	o := httpOptions{method: method}
	cmd := &cobra.Command{
		Use:  use + " URL...",
		Long: httpLong,
		Args: minArgs(1, "at least one URL"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return runHTTP(ctx, a, o, args)
		}),
	}
	switch method {
	case "GET":
		cmd.Short = "Fetch URLs with GET"
		cmd.Example = `  netkit http get http://127.0.0.1:8080/
  netkit http get -i --timing https://example.com/ https://example.com/about
  netkit http get -L -o rfc791.txt https://www.rfc-editor.org/rfc/rfc791.txt
  netkit http get --wire http://127.0.0.1:8080/ 2>&1 >/dev/null`
	case "HEAD":
		cmd.Short = "Fetch only the heads of URLs (HEAD)"
		cmd.Example = `  netkit http head https://example.com/`
	case "POST", "PUT", "PATCH", "DELETE":
		cmd.Use = use + " URL [ITEM...]"
		cmd.Short = "Send a " + method + " request; request items make its body"
		cmd.Example = "  netkit http " + use + ` http://127.0.0.1:8000/anything name=netkit count:=3 tags:='["a","b"]'
  netkit http ` + use + ` --form http://127.0.0.1:8000/anything title=hello file@notes.txt
  netkit http ` + use + ` http://127.0.0.1:8000/anything Authorization:'Bearer xyz' q==search --jq .json`
	default:
		cmd.Use = "request METHOD URL..."
		cmd.Short = "Send a request with any method and an optional body"
		cmd.Example = `  netkit http request POST http://127.0.0.1:8080/form -d 'name=value'
  netkit http request PUT http://127.0.0.1:8080/f --data-binary @file.bin -H 'Content-Type: application/octet-stream'
  echo '{"a":1}' | netkit http request POST http://127.0.0.1:8080/api --data-binary @- -H 'Content-Type: application/json'`
		cmd.Args = minArgs(2, "a METHOD and at least one URL")
		cmd.RunE = a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			o.method = args[0]
			return runHTTP(ctx, a, o, args[1:])
		})
	}
	f := cmd.Flags()
	if method != "GET" && method != "HEAD" {
		f.StringArrayVarP(&o.data, "data", "d", nil, "send this string as the body (repeatable: joined with &, as curl)")
		f.StringVar(&o.dataBinary, "data-binary", "", "send this string, or @FILE's bytes (@- for stdin), as the body")
	}
	f.StringArrayVarP(&o.headers, "header", "H", nil, "add a header, `'Name: value'`; 'Name:' removes a default one (repeatable)")
	f.StringArrayVarP(&o.outputs, "output", "o", nil, "write the body to `FILE` (once per URL, in order; - for stdout)")
	f.BoolVarP(&o.include, "include", "i", method == "HEAD", "print the status line and headers before the body")
	f.BoolVar(&o.wire, "wire", false, "show the bytes sent and the heads received on stderr")
	f.BoolVar(&o.timing, "timing", false, "show the time of each phase on stderr")
	f.BoolVarP(&o.location, "location", "L", false, "follow redirects")
	f.IntVar(&o.maxRedirs, "max-redirs", 20, "with -L, give up after this many redirects")
	f.BoolVar(&o.compressed, "compressed", false, "ask for gzip and decode it")
	f.BoolVarP(&o.insecure, "insecure", "k", false, "https: do not verify the server's certificate")
	f.StringVar(&o.cacert, "cacert", "", "https: trust the CA certificates in this PEM `FILE` instead of the system's")
	f.StringVarP(&o.userAgent, "user-agent", "A", "", "the User-Agent (default netkit/VERSION)")
	f.BoolVarP(&o.fail, "fail", "f", false, "exit 1 when a status is 400 or more")
	f.BoolVar(&o.form, "form", false, "send the fields as a form (multipart with a file item) instead of JSON")
	f.BoolVar(&o.paginate, "paginate", false, `follow Link: rel="next" and print each page (NDJSON)`)
	f.IntVar(&o.maxPages, "max-pages", 1000, "with --paginate, fail after this many pages")
	f.BoolVar(&o.http11, "http1.1", false, "https: use netkit's own HTTP/1.1 client, not HTTP/2 where the server offers it (--wire implies it)")
	f.StringVar(&o.session, "session", "", "keep cookies and headers between calls in this session (a `NAME`, or a path)")
	f.StringVar(&o.cookies, "cookies", "", "send the cookies of this Netscape cookie `FILE` (curl -c's)")
	o.extract.add(f)
	return cmd
}

type httpResults struct {
	Responses []*httpwire.Result `json:"responses"`
}

func (r httpResults) writeHuman(io.Writer, textui.Style) error { return nil }

func runHTTP(ctx context.Context, a *app, o httpOptions, args []string) error {
	var err error
	if o.urls, o.items, err = httpwire.SplitArgs(args); err != nil {
		return inputError(err)
	}
	spec, err := o.extract.spec(o.paginate)
	if err != nil {
		return err
	}
	if len(o.outputs) > len(o.urls) {
		return usageError("%d -o files for %d URL%s: give -o once per URL at most", len(o.outputs), len(o.urls), plural(len(o.urls)))
	}
	if o.maxPages < 1 {
		return usageError("invalid --max-pages %d: at least 1", o.maxPages)
	}
	if o.maxRedirs < 0 {
		return usageError("invalid --max-redirs %d: it may not be negative", o.maxRedirs)
	}
	if o.insecure && o.cacert != "" {
		return usageError("--insecure and --cacert exclude each other")
	}
	hdr, omit, err := httpwire.ParseHeaderFlags(o.headers)
	if err != nil {
		return inputError(fmt.Errorf("invalid -H: %w", err))
	}
	body, err := requestBody(a, o)
	if err != nil {
		return err
	}
	if body != nil && o.items.HasBody() {
		return usageError("-d and --data-binary exclude request items that make a body (name=value, name:=json, name@file)")
	}
	if (body != nil || o.items.HasBody()) && len(o.urls) > 1 {
		return usageError("a body goes with one URL; got %d", len(o.urls))
	}
	reqs, err := httpwire.NewRequests(o.method, o.urls, hdr, omit, body)
	if err != nil {
		return inputError(err)
	}
	for _, req := range reqs {
		if err := o.items.Apply(req, o.form); err != nil {
			return inputError(err)
		}
	}
	c := &httpwire.Client{
		UserAgent:       cmp.Or(o.userAgent, "netkit/"+buildVersion().Version),
		FollowRedirects: o.location && o.maxRedirs > 0,
		MaxRedirects:    o.maxRedirs,
		DecodeGzip:      o.compressed,
		HTTP2:           !o.http11 && !o.wire,
	}
	if c.TLSConfig, err = httpwire.TLSFiles(o.insecure, o.cacert); err != nil {
		return inputError(fmt.Errorf("--cacert: %w", err))
	}
	defer c.CloseIdle()
	jar, saveSession, err := o.cookieJar(a, reqs, append(hdr.Clone(), o.items.Headers()...))
	if err != nil {
		return err
	}
	if jar != nil {
		c.Jar = jar
	}
	if o.wire {
		c.Trace = httpwire.WireTrace(a.io.Err, 0)
	}
	jobs := make([]httpwire.Job, len(reqs))
	for i, req := range reqs {
		jobs[i].Request = req
		if i < len(o.outputs) {
			jobs[i].Output = o.outputs[i]
		}
	}
	fo := httpwire.FetchOptions{
		Stdout:       a.io.Out,
		OneProcessor: true,
		Progress: func(file string, total int64) httpwire.Progress {
			return a.newProgress(filepath.Base(file), total)
		},
	}
	failed := false
	if !a.json {
		fo.Body = a.io.Out
		if o.include {
			fo.Head = a.io.Out
		}
		fo.Sink = sinkFor(ctx, spec, a.io.Out, a.io.OutTTY, a.outStyle().On)
	}
	if o.paginate {
		fo.Next = httpwire.Paginate(o.maxPages)
	}
	fo.Done = func(r *httpwire.Result, err error) {
		switch {
		case err != nil:
			failed = true
			if !a.json {
				fmt.Fprintln(a.io.Err, message(fmt.Errorf("%s: %w", r.URL, err)))
			}
			return
		case o.fail && r.Status >= 400:
			failed = true
			if !a.json {
				fmt.Fprintf(a.io.Err, "netkit: %s: %s\n", r.URL, r.StatusLine())
			}
		}
		if a.json {
			return
		}
		if r.Excess > 0 {
			fmt.Fprintf(a.io.Err, "netkit: warning: %s sent %d bytes after the end of the body; the connection was not reused\n", r.Remote, r.Excess)
		}
		if o.timing {
			writeTiming(a.io.Err, r.Request.URL, r.Timing, r.Reused)
		}
	}
	results, _ := c.Fetch(ctx, jobs, fo)
	if err := saveSession(); err != nil {
		return err
	}
	if a.json {
		if err := a.render(httpResults{results}); err != nil {
			return err
		}
	}
	if failed {
		return errSilentFailure
	}
	return nil
}
