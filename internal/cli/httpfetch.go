package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/httpwire"
	"github.com/netkit-dev/netkit/internal/textui"
)

// fetchOne makes one request and delivers its body.
func fetchOne(ctx context.Context, a *app, c *httpwire.Client, req *httpwire.Request, o httpOptions, out string) (*httpResult, error) {
	res := &httpResult{URL: req.URL.String(), Output: out}
	// A body bound for a file is read in batches of 256 KiB (the
	// kernel wakes us once per batch: 30% less CPU on a fast download);
	// one bound for a reader gets each byte as it comes.
	c.LowWater = 0
	if out != "" && out != "-" {
		c.LowWater = 256 << 10
	}
	resp, err := c.Do(ctx, req)
	if err != nil {
		return res, err
	}
	defer resp.Body.Close()
	res.Proto, res.Status, res.Reason = resp.Proto, resp.StatusCode, resp.Reason
	res.statusLine = strings.TrimSpace(fmt.Sprintf("%s %d %s", resp.Proto, resp.StatusCode, resp.Reason))
	res.Headers, res.Redirects, res.Remote, res.Reused = resp.Header, resp.Redirects, resp.RemoteAddr, resp.Reused
	res.Framing, res.Decoded = resp.Framing.String(), resp.Uncompressed
	for _, in := range resp.Interim {
		res.Interim = append(res.Interim, httpInterim{in.StatusCode, in.Header})
	}

	if o.include && !a.json {
		for _, in := range resp.Interim {
			a.io.Out.Write(httpwire.EscapeHead(in.Head))
		}
		a.io.Out.Write(httpwire.EscapeHead(resp.Head))
	}
	var w io.Writer = io.Discard
	var file *httpwire.Output
	switch {
	case out == "-":
		w = a.io.Out
	case out != "":
		file, err = httpwire.CreateOutput(out)
		if err != nil {
			return res, inputError(fmt.Errorf("-o %s: %w", out, err))
		}
		defer file.Abort()
		w = file
	case !a.json:
		w = a.io.Out
	}
	cw := &countingWriter{w: w}
	if out != "" && out != "-" {
		cw.bar = a.newProgress(filepath.Base(out), resp.ContentLength)
	}
	n, err := io.CopyBuffer(cw, resp.Body, make([]byte, 256<<10))
	if cw.bar != nil {
		cw.bar.Finish()
	}
	res.BodyBytes = n
	if err != nil {
		var we *writeError
		if errors.As(err, &we) {
			return res, fmt.Errorf("writing the body: %w", we.err)
		}
		return res, fmt.Errorf("after %d body bytes: %w", n, err)
	}
	res.Trailers, res.Excess = resp.Trailer, resp.Excess
	if o.include && !a.json && len(resp.Trailer) > 0 {
		for _, f := range resp.Trailer {
			a.io.Out.Write(httpwire.EscapeHead(fmt.Appendf(nil, "%s: %s\r\n", f.Name, f.Value)))
		}
	}
	if file != nil {
		if err := file.Commit(); err != nil {
			return res, fmt.Errorf("-o %s: %w", out, err)
		}
	}
	if resp.Excess > 0 && !a.json {
		fmt.Fprintf(a.io.Err, "netkit: warning: %s sent %d bytes after the end of the body; the connection was not reused\n", resp.RemoteAddr, resp.Excess)
	}
	t := resp.Timing
	res.TimingMS = &httpTimingView{ms(t.DNS), ms(t.Connect), ms(t.TLS), ms(t.Sent), ms(t.FirstByte), ms(t.Total)}
	if o.timing && !a.json {
		writeTiming(a.io.Err, req.URL, t, resp.Reused)
	}
	return res, nil
}

// countingWriter feeds the progress bar and marks write errors, so that a
// full disk is not reported as a network failure.
type countingWriter struct {
	w   io.Writer
	bar *textui.Progress
}

type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }

func (cw *countingWriter) Write(p []byte) (int, error) {
	n, err := cw.w.Write(p)
	if cw.bar != nil {
		cw.bar.Add(int64(n))
	}
	if err != nil {
		return n, &writeError{err}
	}
	return n, nil
}

// writeTiming prints the phases of one exchange: each phase's own time
// and the time since the start; "-" for phases that did not happen.
func writeTiming(w io.Writer, u *url.URL, t httpwire.Timing, reused bool) {
	conn := "new connection"
	if reused {
		conn = "reused connection"
	}
	tb := textui.NewTable("phase", "took", "at").AlignRight(1, 2)
	for _, p := range t.Phases(u, reused) {
		if p.Skipped {
			tb.Add(p.Name, "-", "-")
		} else {
			tb.Add(p.Name, fmtMS(p.Took), fmtMS(p.At))
		}
	}
	tb.Add("total", "", fmtMS(t.Total))
	fmt.Fprintf(w, "timing of %s (%s):\n", u, conn)
	tb.Write(w, textui.Style{})
}

func fmtMS(d time.Duration) string {
	return fmt.Sprintf("%.3f ms", float64(d.Microseconds())/1000)
}

// requestBody reads -d and --data-binary.
func requestBody(a *app, o httpOptions) (io.Reader, bool, error) {
	switch {
	case len(o.data) > 0 && o.dataBinary != "":
		return nil, false, usageError("-d and --data-binary exclude each other")
	case len(o.data) > 0:
		return strings.NewReader(strings.Join(o.data, "&")), true, nil
	case o.dataBinary == "@-":
		b, err := io.ReadAll(a.io.In)
		if err != nil {
			return nil, false, fmt.Errorf("reading the body from stdin: %w", err)
		}
		return bytes.NewReader(b), true, nil
	case strings.HasPrefix(o.dataBinary, "@"):
		f, err := os.Open(o.dataBinary[1:])
		if err != nil {
			return nil, false, inputError(fmt.Errorf("--data-binary: %w", err))
		}
		return f, true, nil
	case o.dataBinary != "":
		return strings.NewReader(o.dataBinary), true, nil
	}
	return nil, false, nil
}
