package httpwire

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// A Job is one request of a Fetch and where its body goes.
type Job struct {
	Request *Request
	// Output is a file for the body, written whole or not at all (see
	// CreateOutput), or "-" for FetchOptions.Stdout. Empty sends the body
	// to FetchOptions.Body.
	Output string
}

// FetchOptions say where a Fetch delivers what it receives. Any field may
// be nil.
type FetchOptions struct {
	// Body receives the bodies of jobs without an Output; nil discards
	// them (the Result still counts their bytes).
	Body io.Writer
	// Stdout receives the bodies of jobs whose Output is "-".
	Stdout io.Writer
	// Head, if set, receives each response's interim and final heads
	// before its body and its trailers after, escaped as EscapeHead does
	// (curl -i).
	Head io.Writer
	// Progress, if set, is started for each body written to a file.
	Progress func(file string, total int64) Progress
	// Sink, if set, gives the writer for the body of each job without an
	// Output, once its head has arrived (to choose by status or
	// Content-Type); Close is called when the body ends, and its error
	// fails the job as a [SinkError].
	Sink func(*Result) (io.WriteCloser, error)
	// Next, if set, is called after each job that succeeded; a request it
	// returns is made next, before the jobs that remain (to follow
	// pagination: see [NextLink]). An error fails the job.
	Next func(*Result) (*Request, error)
	// Done is called after each job, in order, with its result and error.
	Done func(*Result, error)
	// OneProcessor runs the fetch with GOMAXPROCS 1, restored when it
	// returns. The requests go one after another on one goroutine, and
	// idle processors spin looking for work, which on a small host takes
	// CPU from the server at the other end (a local 2 GiB download: 0.51 s
	// with two processors, 0.44 s with one; see bench/README.md). It
	// changes a process-wide setting: use it in programs that do nothing
	// else meanwhile.
	OneProcessor bool
}

// Progress is told how a body written to a file advances.
type Progress interface {
	Add(n int64)
	Finish()
}

// Result describes one exchange of a Fetch; it is what netkit http --json
// prints.
type Result struct {
	URL       string        `json:"url"`
	Error     string        `json:"error,omitempty"`
	Proto     string        `json:"proto,omitempty"`
	Status    int           `json:"status,omitempty"`
	Reason    string        `json:"reason,omitempty"`
	Headers   []Field       `json:"headers,omitempty"`
	Trailers  []Field       `json:"trailers,omitempty"`
	Interim   []InterimHead `json:"interim,omitempty"`
	Redirects []Redirect    `json:"redirects,omitempty"`
	Remote    string        `json:"remote,omitempty"`
	Reused    bool          `json:"reused,omitempty"`
	Framing   string        `json:"framing,omitempty"`
	BodyBytes int64         `json:"body_bytes"`
	Decoded   bool          `json:"gzip_decoded,omitempty"`
	Output    string        `json:"output,omitempty"`
	Excess    int           `json:"excess_bytes,omitempty"`
	TimingMS  *TimingMS     `json:"timing_ms,omitempty"`
	Timing    Timing        `json:"-"`
	Request   *Request      `json:"-"`
	Response  *Response     `json:"-"`
}

// StatusLine is the response's status line, as "HTTP/1.1 404 Not Found".
func (r *Result) StatusLine() string {
	return strings.TrimSpace(fmt.Sprintf("%s %d %s", r.Proto, r.Status, r.Reason))
}

// InterimHead is a 1xx response received before the final one.
type InterimHead struct {
	Status  int     `json:"status"`
	Headers []Field `json:"headers,omitempty"`
}

// TimingMS holds a Timing as cumulative milliseconds, as curl's -w times.
type TimingMS struct {
	DNS       float64 `json:"dns"`
	Connect   float64 `json:"connect"`
	TLS       float64 `json:"tls"`
	Sent      float64 `json:"sent"`
	FirstByte float64 `json:"first_byte"`
	Total     float64 `json:"total"`
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// WriteError is a failure to write a body where it was going (a full
// disk, a closed pipe), told apart from a network failure.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "writing the body: " + e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

// SinkError is a failure of FetchOptions.Sink's writer.
type SinkError struct{ Err error }

func (e *SinkError) Error() string { return e.Err.Error() }
func (e *SinkError) Unwrap() error { return e.Err }

// Fetch makes the requests of jobs one after another, over the client's
// kept-alive connections, and delivers each body. A job that fails does
// not stop the next; Fetch stops early only when ctx ends. It returns
// one Result per job made, and an error when any job failed.
func (c *Client) Fetch(ctx context.Context, jobs []Job, o FetchOptions) ([]*Result, error) {
	if o.OneProcessor {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	}
	var results []*Result
	var failed error
	jobs = slices.Clone(jobs)
	// One copy buffer for every job: allocating (and clearing) 256 KiB
	// per request cost more than the request itself on a kept-alive
	// connection.
	buf := make([]byte, 256<<10)
	for i := 0; i < len(jobs); i++ {
		j := jobs[i]
		res, err := c.fetchOne(ctx, j, o, buf)
		if err == nil && o.Next != nil {
			var next *Request
			if next, err = o.Next(res); next != nil {
				jobs = slices.Insert(jobs, i+1, Job{Request: next, Output: j.Output})
			}
		}
		results = append(results, res)
		if err != nil {
			res.Error = err.Error()
			failed = errors.Join(failed, fmt.Errorf("%s: %w", j.Request.URL, err))
		}
		if o.Done != nil {
			o.Done(res, err)
		}
		if err != nil && ctx.Err() != nil {
			break
		}
	}
	return results, failed
}

func (c *Client) fetchOne(ctx context.Context, j Job, o FetchOptions, buf []byte) (*Result, error) {
	req, out := j.Request, j.Output
	res := &Result{URL: req.URL.String(), Output: out, Request: req}
	toFile := out != "" && out != "-"
	// A body bound for a file is read in batches of 256 KiB (the kernel
	// wakes us once per batch: 30% less CPU on a fast download); one
	// bound for a writer gets each byte as it comes.
	c.LowWater = 0
	if toFile {
		c.LowWater = 256 << 10
	}
	resp, err := c.Do(ctx, req)
	if err != nil {
		return res, err
	}
	defer resp.Body.Close()
	res.Response = resp
	res.Proto, res.Status, res.Reason = resp.Proto, resp.StatusCode, resp.Reason
	res.Headers, res.Redirects, res.Remote, res.Reused = resp.Header, resp.Redirects, resp.RemoteAddr, resp.Reused
	res.Framing, res.Decoded = resp.Framing.String(), resp.Uncompressed
	for _, in := range resp.Interim {
		res.Interim = append(res.Interim, InterimHead{in.StatusCode, in.Header})
	}
	if o.Head != nil {
		for _, in := range resp.Interim {
			o.Head.Write(EscapeHead(in.Head))
		}
		o.Head.Write(EscapeHead(resp.Head))
	}
	w := o.Body
	var file *Output
	switch {
	case out == "-":
		w = o.Stdout
	case toFile:
		if file, err = CreateOutput(out); err != nil {
			return res, &WriteError{err}
		}
		defer file.Abort()
		w = file
	}
	var sink io.WriteCloser
	if out == "" && o.Sink != nil {
		if sink, err = o.Sink(res); err != nil {
			return res, &SinkError{err}
		}
		w = sink
	}
	if w == nil {
		w = io.Discard
	}
	cw := &countingWriter{w: w}
	if toFile && o.Progress != nil {
		cw.bar = o.Progress(out, resp.ContentLength)
	}
	n, err := io.CopyBuffer(cw, resp.Body, buf)
	if cw.bar != nil {
		cw.bar.Finish()
	}
	res.BodyBytes = n
	if sink != nil {
		if cerr := sink.Close(); cerr != nil {
			return res, &SinkError{cerr}
		}
	}
	if err != nil {
		if we, ok := errors.AsType[*WriteError](err); ok {
			return res, we
		}
		return res, fmt.Errorf("after %d body bytes: %w", n, err)
	}
	res.Trailers, res.Excess = resp.Trailer, resp.Excess
	if o.Head != nil {
		for _, f := range resp.Trailer {
			o.Head.Write(EscapeHead(fmt.Appendf(nil, "%s: %s\r\n", f.Name, f.Value)))
		}
	}
	if file != nil {
		if err := file.Commit(); err != nil {
			return res, &WriteError{err}
		}
	}
	t := resp.Timing
	res.Timing = t
	res.TimingMS = &TimingMS{millis(t.DNS), millis(t.Connect), millis(t.TLS), millis(t.Sent), millis(t.FirstByte), millis(t.Total)}
	return res, nil
}

// countingWriter feeds a progress bar and marks write errors, so that a
// full disk is not reported as a network failure.
type countingWriter struct {
	w   io.Writer
	bar Progress
}

func (cw *countingWriter) Write(p []byte) (int, error) {
	n, err := cw.w.Write(p)
	if cw.bar != nil {
		cw.bar.Add(int64(n))
	}
	if err != nil {
		return n, &WriteError{err}
	}
	return n, nil
}

// TLSFiles builds a TLS configuration as curl's -k and --cacert do:
// insecure skips certificate verification; caFile trusts the PEM
// certificates in that file instead of the system's. Neither gives nil,
// the system's roots.
func TLSFiles(insecure bool, caFile string) (*tls.Config, error) {
	switch {
	case insecure && caFile != "":
		return nil, errors.New("skipping verification and trusting a CA file exclude each other")
	case insecure:
		return &tls.Config{InsecureSkipVerify: true}, nil //nolint:gosec // the caller asked for it
	case caFile != "":
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate in it", caFile)
		}
		return &tls.Config{RootCAs: pool}, nil
	}
	return nil, nil
}

// NewRequests makes one request per URL with the same method and header.
// A body, if given, goes with a single URL; it is sent with Content-Type
// application/x-www-form-urlencoded unless the header names another, as
// curl -d does.
func NewRequests(method string, urls []string, header Header, omit []string, body io.Reader) ([]*Request, error) {
	if body != nil && len(urls) > 1 {
		return nil, fmt.Errorf("a body goes with one URL; got %d", len(urls))
	}
	reqs := make([]*Request, len(urls))
	for i, u := range urls {
		req, err := NewRequest(method, u, nil)
		if err != nil {
			return nil, err
		}
		req.Header, req.Omit = header.Clone(), omit
		if body != nil {
			if err := req.SetBody(body); err != nil {
				return nil, err
			}
			if !req.Header.Has("Content-Type") {
				req.Header.Add("Content-Type", "application/x-www-form-urlencoded")
			}
		}
		reqs[i] = req
	}
	return reqs, nil
}
