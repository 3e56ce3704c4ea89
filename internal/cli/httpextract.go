package cli

import (
	"context"
	"io"
	"mime"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/extract"
	"github.com/netkit-dev/netkit/httpwire"
	"github.com/spf13/pflag"
)

type extractFlags struct {
	jq, css, attr, xpath string
	raw, compact, text   bool
	maxBody              string
	timeout              time.Duration
}

func (e *extractFlags) add(f *pflag.FlagSet) {
	f.StringVar(&e.jq, "jq", "", "print what this jq `PROGRAM` finds in the JSON body")
	f.BoolVarP(&e.raw, "raw", "r", false, "with --jq, print strings without quotes (jq -r)")
	f.BoolVarP(&e.compact, "compact", "c", false, "with --jq, print each result on one line (jq -c)")
	f.StringVar(&e.css, "select", "", "print the elements of the HTML body that this CSS `SELECTOR` finds")
	f.StringVar(&e.attr, "attr", "", "with --select, print this attribute's value of each element")
	f.BoolVar(&e.text, "text", false, "with --select or --xpath, print each element's text")
	f.StringVar(&e.xpath, "xpath", "", "print the nodes of the XML body that this `XPATH` finds")
	f.StringVar(&e.maxBody, "max-body", "", "with --jq, --select or --xpath, fail on a body larger than this (K, M, G: powers of 1024; default 256M for JSON, 8M for HTML and XML)")
	f.DurationVar(&e.timeout, "jq-timeout", time.Minute, "stop a jq program that runs this long")
}

// spec turns the flags into an extraction, or nil for none. Pagination
// without --jq prints each page as one line of JSON.
func (e *extractFlags) spec(paginate bool) (*extract.Spec, error) {
	n := 0
	for _, s := range []string{e.jq, e.css, e.xpath} {
		if s != "" {
			n++
		}
	}
	switch {
	case n > 1:
		return nil, usageError("--jq, --select and --xpath exclude each other")
	case (e.raw || e.compact) && e.jq == "":
		return nil, usageError("--raw and --compact go with --jq")
	case e.attr != "" && e.css == "":
		return nil, usageError("--attr goes with --select")
	case e.text && e.css == "" && e.xpath == "":
		return nil, usageError("--text goes with --select or --xpath")
	case e.attr != "" && e.text:
		return nil, usageError("--attr and --text exclude each other")
	case e.timeout <= 0:
		return nil, usageError("invalid --jq-timeout %s: it must be positive", e.timeout)
	case n == 0 && !paginate:
		return nil, nil
	}
	max, err := parseSize("--max-body", e.maxBody, 1024)
	if err != nil {
		return nil, err
	}
	s := &extract.Spec{
		Pick:   extract.Pick{Attr: e.attr, Text: e.text},
		Text:   e.text,
		Format: extract.Format{Raw: e.raw, Compact: e.compact},
		Limits: extract.Limits{MaxInput: int64(max), Timeout: e.timeout},
	}
	switch {
	case e.jq != "":
		s.JQ, err = extract.ParseJQ(e.jq)
	case e.css != "":
		s.Select, err = extract.ParseSelector(e.css)
	case e.xpath != "":
		s.XPath, err = extract.ParseXPath(e.xpath)
	default: // --paginate alone
		s.JQ, err = extract.ParseJQ(".")
		s.Format.Compact = true
	}
	if err != nil {
		return nil, inputError(err)
	}
	return s, nil
}

// sinkFor sends bodies through spec; with no spec, a JSON body bound for
// a terminal is indented (jq .).
func sinkFor(ctx context.Context, spec *extract.Spec, out io.Writer, tty, color bool) func(*httpwire.Result) (io.WriteCloser, error) {
	if spec == nil && !tty {
		return nil
	}
	if spec != nil && spec.JQ != nil && color {
		s := *spec
		s.Format.Color = true
		spec = &s
	}
	return func(r *httpwire.Result) (io.WriteCloser, error) {
		ctype := r.Response.Header.Get("Content-Type")
		s := spec
		if s == nil {
			mt, _, _ := mime.ParseMediaType(ctype)
			if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
				return nopCloser{out}, nil
			}
			jq, _ := extract.ParseJQ(".")
			s = &extract.Spec{JQ: jq, Format: extract.Format{Color: color}}
		}
		return s.NewWriter(ctx, ctype, out), nil
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
