package httpwire

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultUserAgent is sent when a Client has no UserAgent.
const DefaultUserAgent = "netkit-httpwire"

// Client sends requests. Its zero value works: system resolver, no
// redirects, certificate verification on. It is safe for concurrent use;
// it keeps one idle connection per origin for the next request there.
type Client struct {
	// Dialer opens TCP connections: timeout, local address.
	Dialer net.Dialer
	// Resolver looks up host names; nil means net.DefaultResolver.
	Resolver *net.Resolver
	// TLSConfig configures https; nil verifies against the system roots.
	TLSConfig *tls.Config
	// UserAgent is the default User-Agent; "" means DefaultUserAgent.
	UserAgent string
	// Limits bound header and trailer sections.
	Limits Limits
	// FollowRedirects follows 301, 302, 303, 307 and 308 responses that
	// carry a Location, up to MaxRedirects (default 20) of them.
	FollowRedirects bool
	MaxRedirects    int
	// DecodeGzip asks for gzip (Accept-Encoding) and decodes a body whose
	// Content-Encoding is gzip.
	DecodeGzip bool
	// DisableKeepAlive closes every connection after its response.
	DisableKeepAlive bool
	// LowWater, if above 1, has a Content-Length body on a plain TCP
	// connection read in batches of up to this many bytes: on Linux the
	// socket's SO_RCVLOWAT is raised so that the kernel wakes the reader
	// once per batch, never above what the body still has to come. That
	// saves CPU on fast bulk transfers and delays bytes of a slow one
	// until a batch is in, so it suits bodies bound for files, not for a
	// reader that wants each byte as it comes.
	LowWater int
	// Trace, if set, is told about connections and the bytes on the wire.
	Trace *Trace
	// Jar, if set, gives the Cookie header of each request (unless the
	// request has one) and takes the Set-Cookie fields of each response,
	// redirects included.
	Jar http.CookieJar
	// HTTP2 sends https requests through net/http's transport, which
	// speaks HTTP/2 when the server offers it (ALPN) and HTTP/1.1
	// otherwise; redirects, cookies, gzip and Timing stay this client's.
	// Trace then hears of connections and heads, not of bytes. Plain http
	// is always this client's own HTTP/1.1.
	HTTP2 bool

	h2state
	mu   sync.Mutex
	idle map[string]*conn
}

// Trace receives events of an exchange as they happen. Any func may be nil.
type Trace struct {
	// Connected: a connection is ready (after TLS), new or reused.
	Connected func(remote net.Addr, reused bool)
	// Sent: bytes written to the connection, the head and then the body.
	Sent func(p []byte)
	// Received: a response head as it arrived, 1xx heads included.
	Received func(head []byte)
	// Redirected: a redirect is about to be followed.
	Redirected func(r Redirect)
}

// Timing holds when each phase of an exchange ended, as offsets from
// Start. As curl's --write-out times they are cumulative: a phase that did
// not happen (DNS for an address, TLS for http, all three on a reused
// connection) ends when the one before it did.
type Timing struct {
	Start     time.Time
	DNS       time.Duration // the name resolved
	Connect   time.Duration // TCP connected
	TLS       time.Duration // TLS handshake done
	Sent      time.Duration // the request fully written
	FirstByte time.Duration // the first byte of the response arrived
	Total     time.Duration // the body read to its end
}

// Error is a failed exchange: what was being done and with whom.
type Error struct {
	Op   string // "dns", "connect", "tls", "send", "receive"
	Host string // host:port
	Err  error
}

func (e *Error) Error() string {
	switch e.Op {
	case "dns":
		return fmt.Sprintf("resolving %s: %v", e.Host, e.Err)
	case "connect":
		return fmt.Sprintf("connecting to %s: %v", e.Host, e.Err)
	case "tls":
		return fmt.Sprintf("TLS handshake with %s: %v", e.Host, e.Err)
	case "send":
		return fmt.Sprintf("sending the request to %s: %v", e.Host, e.Err)
	}
	return fmt.Sprintf("reading the response from %s: %v", e.Host, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Get fetches a URL with GET.
func (c *Client) Get(ctx context.Context, rawURL string) (*Response, error) {
	req, err := NewRequest("GET", rawURL, nil)
	if err != nil {
		return nil, err
	}
	return c.Do(ctx, req)
}

// Do sends a request and returns the response once its head has arrived.
// The caller reads the body to its end, or closes it; the context bounds
// the whole exchange, body included. A response with any status is not an
// error.
func (c *Client) Do(ctx context.Context, req *Request) (*Response, error) {
	var hops []Redirect
	for {
		resp, err := c.send(ctx, c.withCookies(req))
		if err != nil {
			return nil, err
		}
		c.keepCookies(req.URL, resp.Header)
		loc := resp.Header.Get("Location")
		if !c.FollowRedirects || !isRedirect(resp.StatusCode) || loc == "" {
			resp.Redirects = hops
			return resp, nil
		}
		discard(resp.Body)
		max := c.MaxRedirects
		if max == 0 {
			max = 20
		}
		if len(hops) >= max {
			return nil, fmt.Errorf("stopped after %d redirects, the limit (raise MaxRedirects, or --max-redirs); the last pointed to %s", len(hops), loc)
		}
		next, hop, err := redirect(req, resp.StatusCode, loc)
		if err != nil {
			return nil, err
		}
		if t := c.Trace; t != nil && t.Redirected != nil {
			t.Redirected(hop)
		}
		hops = append(hops, hop)
		req = next
	}
}

// withCookies is req with the jar's cookies for its URL, when it has none
// of its own.
func (c *Client) withCookies(req *Request) *Request {
	if c.Jar == nil || req.Header.Has("Cookie") || omitted(req.Omit, "Cookie") {
		return req
	}
	cs := c.Jar.Cookies(req.URL)
	if len(cs) == 0 {
		return req
	}
	parts := make([]string, len(cs))
	for i, ck := range cs {
		parts[i] = ck.Name + "=" + ck.Value
	}
	r := *req
	r.Header = req.Header.Clone()
	r.Header.Add("Cookie", strings.Join(parts, "; "))
	return &r
}

func (c *Client) keepCookies(u *url.URL, h Header) {
	if c.Jar == nil {
		return
	}
	var cs []*http.Cookie
	for _, v := range h.Values("Set-Cookie") {
		if ck, err := http.ParseSetCookie(v); err == nil {
			cs = append(cs, ck)
		}
	}
	if len(cs) > 0 {
		c.Jar.SetCookies(u, cs)
	}
}

func isRedirect(code int) bool {
	switch code {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// discard reads a little of a body so its connection can be reused, and
// closes it.
func discard(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, 64<<10)
	body.Close()
}

// redirect builds the request that follows a redirect (RFC 9110 section
// 15.4): 303 turns every method but HEAD into GET, 301 and 302 turn POST
// into GET as browsers and curl do, 307 and 308 resend the same method
// and body. Credentials go only to the origin they were given for.
func redirect(req *Request, code int, loc string) (*Request, Redirect, error) {
	ref, err := url.Parse(loc)
	if err != nil {
		return nil, Redirect{}, fmt.Errorf("redirect %d from %s: invalid Location %q: %v", code, req.URL, loc, err)
	}
	u := req.URL.ResolveReference(ref)
	if u.Fragment == "" {
		u.Fragment = req.URL.Fragment
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, Redirect{}, fmt.Errorf("redirect %d from %s to %s: only http and https are followed", code, req.URL, u)
	}
	next := &Request{Method: req.Method, URL: u, Header: req.Header.Clone(), Omit: req.Omit, ContentLength: req.ContentLength, GetBody: req.GetBody}
	changeToGet := code == 303 && req.Method != "HEAD" || (code == 301 || code == 302) && req.Method == "POST"
	if changeToGet {
		next.Method, next.ContentLength, next.GetBody = "GET", 0, nil
		for _, h := range []string{"Content-Type", "Content-Encoding", "Content-Language", "Content-Location"} {
			next.Header.Del(h)
		}
	} else if req.sendsBody() {
		if req.GetBody == nil {
			return nil, Redirect{}, fmt.Errorf("redirect %d from %s asks to send the body again, and it cannot be re-read", code, req.URL)
		}
		if next.Body, err = req.GetBody(); err != nil {
			return nil, Redirect{}, fmt.Errorf("re-reading the request body for redirect %d: %w", code, err)
		}
	}
	if origin(u) != origin(req.URL) {
		for _, h := range []string{"Authorization", "Proxy-Authorization", "Cookie"} {
			next.Header.Del(h)
		}
		next.Header.Del("Host")
	}
	return next, Redirect{StatusCode: code, From: req.URL.String(), To: u.String()}, nil
}

// origin is scheme://host:port with the port made explicit.
func origin(u *url.URL) string {
	h, p := hostPort(u)
	return u.Scheme + "://" + strings.ToLower(net.JoinHostPort(h, p))
}

// idempotent methods may be retried on a fresh connection when a reused
// one turns out to be closed (RFC 9110 section 9.2.2).
func idempotent(m string) bool {
	switch m {
	case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE":
		return true
	}
	return false
}

// send makes one exchange, retrying once on a fresh connection when a
// reused one was closed by the server before it answered.
func (c *Client) send(ctx context.Context, req *Request) (*Response, error) {
	if c.HTTP2 && req.URL.Scheme == "https" {
		return c.exchangeH2(ctx, req)
	}
	for attempt := 0; ; attempt++ {
		resp, retry, err := c.exchange(ctx, req, attempt > 0)
		if err == nil || !retry || attempt > 0 {
			return resp, err
		}
		if req.sendsBody() {
			if req.GetBody == nil {
				return nil, err
			}
			if req.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
	}
}

// exchange sends req on one connection. retry reports that the failure
// happened on a reused connection before any response byte, so the request
// may be sent again.
func (c *Client) exchange(ctx context.Context, req *Request, fresh bool) (resp *Response, retry bool, err error) {
	ua := c.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	head, err := req.head(ua, c.DecodeGzip)
	if err != nil {
		return nil, false, err
	}
	t := Timing{Start: time.Now()}
	pc, err := c.connect(ctx, req.URL, &t, fresh)
	if err != nil {
		return nil, false, err
	}
	stop := context.AfterFunc(ctx, func() { pc.nc.SetDeadline(time.Unix(1, 0)) })
	fail := func(op string, err error) (*Response, bool, error) {
		stop()
		pc.nc.Close()
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return nil, pc.reused && idempotent(req.Method) && ctx.Err() == nil, &Error{Op: op, Host: pc.addr, Err: err}
	}
	if t := c.Trace; t != nil && t.Connected != nil {
		t.Connected(pc.nc.RemoteAddr(), pc.reused)
	}

	var sent func([]byte)
	if c.Trace != nil {
		sent = c.Trace.Sent
	}
	if _, err := pc.bw.Write(head); err != nil {
		return fail("send", err)
	}
	if sent != nil {
		sent(head)
	}
	if err := req.writeBody(pc.bw, sent); err != nil {
		return fail("send", err)
	}
	if err := pc.bw.Flush(); err != nil {
		return fail("send", err)
	}
	t.Sent = time.Since(t.Start)

	if _, err := pc.br.Peek(1); err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("the server closed the connection without a response")
		}
		return fail("receive", err)
	}
	t.FirstByte = time.Since(t.Start)
	resp, err = ReadResponse(pc.br, req.Method, c.Limits)
	if err != nil {
		r, _, err := fail("receive", err)
		return r, false, err
	}
	if tr := c.Trace; tr != nil && tr.Received != nil {
		for _, in := range resp.Interim {
			tr.Received(in.Head)
		}
		tr.Received(resp.Head)
	}
	resp.Request, resp.Timing, resp.RemoteAddr, resp.Reused = req, t, pc.addr, pc.reused
	resp.Close = resp.Close || c.DisableKeepAlive || hasToken(req.Header.List("Connection"), "close")
	b := &body{inner: resp.Body, c: c, pc: pc, resp: resp, stop: stop, ctx: ctx}
	if sc, ok := pc.nc.(syscall.Conn); ok && resp.Framing == Length && c.LowWater > 1 && !pc.tls {
		b.lw = newLowWater(sc, c.LowWater)
	}
	resp.Body = b
	if resp.Framing == NoBody {
		b.finish(true)
	}
	if c.DecodeGzip && resp.Framing != NoBody && strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		resp.Body = &gunzip{src: b, what: "the gzip body"}
		resp.Uncompressed, resp.ContentLength = true, -1
	}
	return resp, false, nil
}

// body wraps a framed body: it records the end of the transfer, hands the
// connection back for reuse when the body ended cleanly, and closes it
// otherwise.
type body struct {
	inner io.ReadCloser
	c     *Client
	pc    *conn
	resp  *Response
	stop  func() bool
	ctx   context.Context
	done  bool
	lw    *lowWater // nil unless Client.LowWater applies
}

func (b *body) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	if b.lw != nil && b.pc.br.Buffered() == 0 {
		b.lw.before(b.inner.(*lengthReader).left)
	}
	n, err := b.inner.Read(p)
	switch {
	case errors.Is(err, io.EOF):
		b.finish(true)
	case err != nil:
		b.finish(false)
		if b.ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", b.ctx.Err(), err)
		}
		err = &Error{Op: "receive", Host: b.pc.addr, Err: err}
	}
	return n, err
}

func (b *body) Close() error {
	if !b.done {
		b.finish(false)
	}
	return nil
}

func (b *body) finish(clean bool) {
	b.done = true
	b.stop()
	b.resp.Timing.Total = time.Since(b.resp.Timing.Start)
	if b.resp.Timing.FirstByte > b.resp.Timing.Total {
		b.resp.Timing.Total = b.resp.Timing.FirstByte
	}
	if clean && b.resp.Framing != UntilClose {
		b.resp.Excess = b.pc.br.Buffered()
	}
	if b.lw != nil && !b.lw.reset() {
		clean = false // a raised mark would stall the next response's head
	}
	b.c.release(b.pc, !clean || b.resp.Close || b.resp.Excess > 0)
}

// gunzip decodes gzip, opening the decoder on the first read: a body's
// Content-Encoding, or a transfer coding under chunked.
type gunzip struct {
	src  io.ReadCloser
	what string // "the gzip body", for errors
	zr   *gzip.Reader
}

func (g *gunzip) Read(p []byte) (int, error) {
	if g.zr == nil {
		zr, err := gzip.NewReader(g.src)
		if err != nil {
			g.src.Close()
			return 0, fmt.Errorf("decoding %s: %w", g.what, err)
		}
		g.zr = zr
	}
	n, err := g.zr.Read(p)
	if errors.Is(err, io.EOF) {
		// Read the framing to its end (a chunked trailer too), so the
		// connection can be reused.
		if _, derr := io.Copy(io.Discard, g.src); derr != nil {
			return n, derr
		}
		return n, io.EOF
	}
	if err != nil && !isReceiveErr(err) {
		err = fmt.Errorf("decoding %s: %w", g.what, err)
	}
	return n, err
}

func isReceiveErr(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

func (g *gunzip) Close() error { return g.src.Close() }

// conn is one connection to an origin.
type conn struct {
	nc     net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	key    string
	addr   string // host:port as dialled
	tls    bool
	reused bool
}

// connect returns an idle connection to the URL's origin or dials one.
func (c *Client) connect(ctx context.Context, u *url.URL, t *Timing, fresh bool) (*conn, error) {
	key := origin(u)
	if !fresh {
		if pc := c.takeIdle(key); pc != nil {
			if pc.alive() {
				pc.reused = true
				return pc, nil
			}
			pc.nc.Close()
		}
	}
	host, port := hostPort(u)
	hp := net.JoinHostPort(host, port)
	addrs, err := c.resolve(ctx, host)
	if err != nil {
		return nil, &Error{Op: "dns", Host: hp, Err: err}
	}
	t.DNS = time.Since(t.Start)
	var nc net.Conn
	var errs []error
	for _, a := range addrs {
		nc, err = c.Dialer.DialContext(ctx, "tcp", net.JoinHostPort(a.String(), port))
		if err == nil {
			break
		}
		errs = append(errs, err)
	}
	if nc == nil {
		return nil, &Error{Op: "connect", Host: hp, Err: errors.Join(errs...)}
	}
	t.Connect = time.Since(t.Start)
	t.TLS = t.Connect
	pc := &conn{nc: nc, key: key, addr: hp}
	if u.Scheme == "https" {
		cfg := c.TLSConfig
		if cfg == nil {
			cfg = &tls.Config{}
		}
		cfg = cfg.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
		cfg.NextProtos = []string{"http/1.1"}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, &Error{Op: "tls", Host: hp, Err: err}
		}
		pc.nc, pc.tls = tc, true
		t.TLS = time.Since(t.Start)
	}
	pc.br = bufio.NewReaderSize(pc.nc, 32<<10)
	pc.bw = bufio.NewWriterSize(pc.nc, 32<<10)
	return pc, nil
}

// resolve returns the host's addresses; an address literal is itself.
func (c *Client) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "invalid" || strings.HasSuffix(h, ".invalid") {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	r := c.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs, nil
}

func (c *Client) takeIdle(key string) *conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	pc := c.idle[key]
	delete(c.idle, key)
	return pc
}

// release keeps pc for the next request to its origin, or closes it.
func (c *Client) release(pc *conn, closeIt bool) {
	if closeIt || c.DisableKeepAlive {
		pc.nc.Close()
		return
	}
	pc.nc.SetDeadline(time.Time{})
	c.mu.Lock()
	if c.idle == nil {
		c.idle = make(map[string]*conn)
	}
	old := c.idle[pc.key]
	c.idle[pc.key] = pc
	c.mu.Unlock()
	if old != nil {
		old.nc.Close()
	}
}

// CloseIdle closes the connections kept for reuse.
func (c *Client) CloseIdle() {
	c.mu.Lock()
	idle := c.idle
	c.idle = nil
	c.mu.Unlock()
	for _, pc := range idle {
		pc.nc.Close()
	}
	if c.h2 != nil {
		c.h2.CloseIdleConnections()
	}
}

// alive reports whether an idle connection can carry another request:
// the server has not closed it and has sent nothing unasked.
func (pc *conn) alive() bool {
	if pc.br.Buffered() > 0 {
		return false
	}
	switch peek(pc.nc) {
	case peekEmpty:
		return true
	case peekClosed:
		return false
	}
	if !pc.tls {
		return false // stray bytes after the last response
	}
	// Over TLS the bytes may be a session ticket, which is no data.
	pc.nc.SetReadDeadline(time.Now().Add(time.Millisecond))
	_, err := pc.br.Peek(1)
	pc.nc.SetReadDeadline(time.Time{})
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

type peekResult int

const (
	peekEmpty peekResult = iota
	peekClosed
	peekData
)

// peek looks at a socket without reading: empty, closed, or holding data.
func peek(nc net.Conn) peekResult {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return peekEmpty
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return peekClosed
	}
	res := peekEmpty
	err = rc.Read(func(fd uintptr) bool {
		res = peekFD(fd)
		return true
	})
	if err != nil {
		return peekClosed
	}
	return res
}
