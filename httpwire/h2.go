package httpwire

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Frames is the framing of a body that came in HTTP/2 DATA frames.
const Frames Framing = UntilClose + 1

// exchangeH2 sends an https request through net/http's transport, which
// speaks HTTP/2 when the server offers it by ALPN and HTTP/1.1 otherwise.
// Redirects, cookies and gzip stay this client's; only the exchange is
// net/http's. The Trace hears of the connection and the heads, not the
// bytes: they are frames inside TLS.
func (c *Client) exchangeH2(ctx context.Context, req *Request) (*Response, error) {
	c.h2once.Do(func() {
		cfg := c.TLSConfig.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		dialer := c.Dialer
		if c.Resolver != nil {
			dialer.Resolver = c.Resolver
		}
		c.h2 = &http.Transport{
			DialContext:         dialer.DialContext,
			TLSClientConfig:     cfg,
			ForceAttemptHTTP2:   true,
			DisableCompression:  true, // DecodeGzip asks and decodes, as on HTTP/1.1
			DisableKeepAlives:   c.DisableKeepAlive,
			MaxIdleConnsPerHost: 1,
		}
	})
	ua := c.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	var body io.Reader
	if req.Body != nil {
		body = req.Body
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL.String(), body)
	if err != nil {
		return nil, err
	}
	hr.ContentLength = req.ContentLength
	if req.ContentLength < 0 && req.Body == nil {
		hr.ContentLength = 0
	}
	if req.GetBody != nil {
		get := req.GetBody
		hr.GetBody = func() (io.ReadCloser, error) {
			r, err := get()
			return io.NopCloser(r), err
		}
	}
	defaults := Header{{"User-Agent", ua}, {"Accept", "*/*"}}
	if c.DecodeGzip {
		defaults = append(defaults, Field{"Accept-Encoding", "gzip"})
	}
	for _, f := range defaults {
		if !req.Header.Has(f.Name) {
			if omitted(req.Omit, f.Name) {
				if f.Name == "User-Agent" {
					hr.Header.Set("User-Agent", "") // net/http then sends none
				}
				continue
			}
			hr.Header.Set(f.Name, f.Value)
		}
	}
	for _, f := range req.Header {
		if strings.EqualFold(f.Name, "Host") {
			hr.Host = f.Value
			continue
		}
		hr.Header.Add(f.Name, f.Value)
	}

	t := Timing{Start: time.Now()}
	var remote string
	var reused bool
	// The transport calls the trace from its dialling goroutine.
	var mu sync.Mutex
	op := "dns" // the phase under way, for errors
	at := func(d *time.Duration, next string) {
		mu.Lock()
		*d = time.Since(t.Start)
		if next != "" {
			op = next
		}
		mu.Unlock()
	}
	trace := &httptrace.ClientTrace{
		DNSDone:      func(httptrace.DNSDoneInfo) { at(&t.DNS, "connect") },
		ConnectStart: func(_, _ string) { mu.Lock(); op = "connect"; mu.Unlock() },
		ConnectDone: func(_, _ string, err error) {
			at(&t.Connect, map[bool]string{true: "tls", false: ""}[err == nil])
		},
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			at(&t.TLS, map[bool]string{true: "send", false: ""}[err == nil])
		},
		GotConn: func(info httptrace.GotConnInfo) {
			mu.Lock()
			op, remote, reused = "send", info.Conn.RemoteAddr().String(), info.Reused
			mu.Unlock()
			if tr := c.Trace; tr != nil && tr.Connected != nil {
				tr.Connected(info.Conn.RemoteAddr(), info.Reused)
			}
		},
		WroteRequest:         func(httptrace.WroteRequestInfo) { at(&t.Sent, "receive") },
		GotFirstResponseByte: func() { at(&t.FirstByte, "") },
	}
	hresp, err := c.h2.RoundTrip(hr.WithContext(httptrace.WithClientTrace(ctx, trace)))
	mu.Lock()
	defer mu.Unlock()
	if err != nil {
		host := req.URL.Host
		if _, _, serr := net.SplitHostPort(host); serr != nil {
			host = net.JoinHostPort(host, "443")
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return nil, &Error{Op: op, Host: host, Err: err}
	}
	// Phases that did not happen end when the one before them did.
	t.DNS = max(t.DNS, 0)
	t.Connect = max(t.Connect, t.DNS)
	t.TLS = max(t.TLS, t.Connect)
	t.Sent = max(t.Sent, t.TLS)
	t.FirstByte = max(t.FirstByte, t.Sent)

	resp := &Response{
		Proto: hresp.Proto, ProtoMajor: hresp.ProtoMajor, ProtoMinor: hresp.ProtoMinor,
		StatusCode: hresp.StatusCode, Reason: strings.TrimSpace(strings.TrimPrefix(hresp.Status, strconv.Itoa(hresp.StatusCode))),
		Header: fromHTTPHeader(hresp.Header), ContentLength: hresp.ContentLength,
		Request: req, RemoteAddr: remote, Reused: reused, Framing: Length,
	}
	if hresp.ProtoMajor == 2 {
		resp.Framing = Frames
	} else if hresp.ContentLength < 0 {
		resp.Framing = Chunked
	}
	if req.Method == "HEAD" || hresp.StatusCode == 204 || hresp.StatusCode == 304 {
		resp.Framing = NoBody
	}
	resp.Head = headBytes(resp)
	if tr := c.Trace; tr != nil && tr.Received != nil {
		tr.Received(resp.Head)
	}
	resp.Timing = t
	resp.Body = &h2body{rc: hresp.Body, resp: resp, trailer: hresp.Trailer}
	if c.DecodeGzip && resp.Framing != NoBody && strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		resp.Body = &gunzip{src: resp.Body, what: "the gzip body"}
		resp.Uncompressed, resp.ContentLength = true, -1
	}
	return resp, nil
}

// h2 state of a Client.
type h2state struct {
	h2once sync.Once
	h2     *http.Transport
}

func fromHTTPHeader(h http.Header) Header {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out Header
	for _, k := range keys {
		for _, v := range h[k] {
			out = append(out, Field{Name: k, Value: v})
		}
	}
	return out
}

// headBytes writes the head as curl -i shows an HTTP/2 one: "HTTP/2 200"
// and lower-case names.
func headBytes(r *Response) []byte {
	var b bytes.Buffer
	if r.ProtoMajor == 2 {
		fmt.Fprintf(&b, "HTTP/2 %d\r\n", r.StatusCode)
	} else {
		fmt.Fprintf(&b, "%s %d %s\r\n", r.Proto, r.StatusCode, r.Reason)
	}
	for _, f := range r.Header {
		name := f.Name
		if r.ProtoMajor == 2 {
			name = strings.ToLower(name)
		}
		fmt.Fprintf(&b, "%s: %s\r\n", name, f.Value)
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// h2body records the end of the transfer and the trailers.
type h2body struct {
	rc      io.ReadCloser
	resp    *Response
	trailer http.Header
	done    bool
}

func (b *h2body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF && !b.done {
		b.done = true
		b.resp.Timing.Total = time.Since(b.resp.Timing.Start)
		b.resp.Trailer = fromHTTPHeader(b.trailer)
	} else if err != nil && err != io.EOF {
		err = &Error{Op: "receive", Host: b.resp.RemoteAddr, Err: err}
	}
	return n, err
}

func (b *h2body) Close() error {
	if !b.done {
		b.resp.Timing.Total = time.Since(b.resp.Timing.Start)
	}
	return b.rc.Close()
}
