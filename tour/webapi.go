package tour

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/netkit-dev/netkit/extract"
	"github.com/netkit-dev/netkit/httpserve"
	"github.com/netkit-dev/netkit/httpwire"
)

// webAPI: a web API is HTTP with JSON bodies; clients send fields, read
// fields, and walk pages.
type webAPI struct{}

func (webAPI) Name() string  { return "web-api" }
func (webAPI) Layer() string { return "application" }
func (webAPI) Idea() string {
	return "a web API is HTTP carrying JSON: the client sends a JSON object, picks fields out of the answer, and follows Link headers from page to page"
}
func (webAPI) Commands() []string {
	return []string{
		"netkit http serve --echo -l 127.0.0.1:12345 --log none &",
		"netkit http post http://127.0.0.1:12345/anything name=tour layer:=7 Accept:application/json --jq .json",
		"netkit http get --paginate 'http://127.0.0.1:12345/items?per_page=3&total=7' -r --jq '.[].name'",
	}
}
func (webAPI) Files() map[string]string { return nil }

func (webAPI) Run(ctx context.Context, w io.Writer, e *Env) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- (&httpserve.Server{Handler: &httpserve.Echo{}}).Serve(sctx, ln) }()
	defer func() { stop(); <-done }()
	base := "http://" + ln.Addr().String()
	c := &httpwire.Client{UserAgent: "netkit-tour"}
	defer c.CloseIdle()

	items, err := httpwire.ParseItems([]string{"name=tour", "layer:=7"})
	if err != nil {
		return err
	}
	req, err := httpwire.NewRequest("POST", base+"/anything", nil)
	if err != nil {
		return err
	}
	if err := items.Apply(req, false); err != nil {
		return err
	}
	var wire bytes.Buffer
	c.Trace = httpwire.WireTrace(&wire, 200)
	say(w, "netkit's test API listens on %s. The request items name=tour and layer:=7 become a JSON object (a string and a number), sent in a POST:", base)
	resp, err := c.Do(ctx, req)
	if err != nil {
		return err
	}
	c.Trace = nil
	for _, line := range strings.Split(strings.TrimRight(wire.String(), "\n"), "\n") {
		if strings.HasPrefix(line, ">") {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
	q, err := extract.ParseJQ(`{method, json, type: .headers["Content-Type"]}`)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	err = q.Write(ctx, resp.Body, &out, extract.Limits{}, extract.Format{Compact: true})
	resp.Body.Close()
	if err != nil {
		return err
	}
	say(w, "The API echoes what it got as JSON; the jq program {method, json, type: .headers[\"Content-Type\"]} picks out:\n  %s", strings.TrimSpace(out.String()))

	say(w, "Lists come a page at a time. Each page's Link header names the next; the client follows until there is none:")
	first, err := httpwire.NewRequest("GET", base+"/items?per_page=3&total=7", nil)
	if err != nil {
		return err
	}
	names, _ := extract.ParseJQ(`[.[].name] | join(", ")`)
	for req, page := first, 1; req != nil; page++ {
		resp, err := c.Do(ctx, req)
		if err != nil {
			return err
		}
		link := resp.Header.Get("Link")
		out.Reset()
		err = names.Write(ctx, resp.Body, &out, extract.Limits{}, extract.Format{Raw: true})
		resp.Body.Close()
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  page %d: %s\n", page, strings.TrimSpace(out.String()))
		next, ok, err := httpwire.NextPage(resp, first)
		if err != nil {
			return err
		}
		if ok {
			fmt.Fprintf(w, "          Link: %s\n", shorten(link, base))
		}
		req = next
		if page > 10 {
			return fmt.Errorf("the pages never end")
		}
	}
	return nil
}

func shorten(link, base string) string {
	for _, part := range strings.Split(link, ", ") {
		if strings.Contains(part, `rel="next"`) {
			return strings.ReplaceAll(part, base, "")
		}
	}
	return link
}
