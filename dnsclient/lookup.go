package dnsclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Client sends queries to DNS servers, as dig does. The zero value asks
// the servers of /etc/resolv.conf with EDNS0 and a 1232-byte buffer.
type Client struct {
	// Servers are tried in order; nil means those of /etc/resolv.conf.
	Servers []Server
	// Timeout is the wait for one answer; 0 means resolv.conf's, or 5s.
	Timeout time.Duration
	// Attempts is how often each server is tried; 0 means resolv.conf's, or 2.
	Attempts int
	// NoEDNS sends plain RFC 1035 queries.
	NoEDNS bool
	// BufSize is the EDNS UDP buffer size; 0 means 1232 (DNS flag day 2020).
	BufSize uint16
	// DNSSEC sets the DO bit, asking for signatures.
	DNSSEC bool
	// NSID asks the server to say who it is (RFC 5001).
	NSID bool
	// Subnet, if valid, is sent as EDNS Client Subnet (RFC 7871).
	Subnet netip.Prefix
	// Cookie sends a client cookie (RFC 7873).
	Cookie bool
	// NoRecurse clears RD.
	NoRecurse bool
	// TLSConfig configures tls and https servers.
	TLSConfig *tls.Config
	// HTTPClient is used for https servers; nil means a default one.
	HTTPClient *http.Client
	// Search and Ndots expand relative names as the stub resolver does;
	// nil Search with system servers means resolv.conf's.
	Search []string
	Ndots  int
}

// Answer is a response and how it came.
type Answer struct {
	Msg    *dns.Msg
	Server Server
	// Transport is what carried the answer: udp, or tcp after a truncated
	// UDP answer.
	Transport Transport
	RTT       time.Duration
	Size      int // bytes of the response message
	// Retried reports that a truncated UDP answer was retried over TCP.
	Retried bool
}

// ServerError says which server failed and how.
type ServerError struct {
	Server Server
	Err    error
}

func (e *ServerError) Error() string { return e.Server.String() + ": " + e.Err.Error() }
func (e *ServerError) Unwrap() error { return e.Err }

// NoAnswerError means no server answered.
type NoAnswerError struct {
	Name   string
	Errors []error // one per server tried
}

func (e *NoAnswerError) Error() string {
	var parts []string
	for _, err := range e.Errors {
		parts = append(parts, err.Error())
	}
	return fmt.Sprintf("no server answered the query for %s: %s", e.Name, strings.Join(parts, "; "))
}

// Unwrap returns the errors of the servers tried.
func (e *NoAnswerError) Unwrap() []error { return e.Errors }

// System reads /etc/resolv.conf into a client's servers, search list,
// ndots, timeout and attempts.
func (c *Client) System(path string) error {
	cfg, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return err
	}
	if c.Servers == nil {
		for _, s := range cfg.Servers {
			c.Servers = append(c.Servers, Server{Transport: UDP, Addr: net.JoinHostPort(s, cfg.Port)})
		}
	}
	if c.Search == nil {
		c.Search = cfg.Search
		c.Ndots = cfg.Ndots
	}
	if c.Timeout == 0 && cfg.Timeout > 0 {
		c.Timeout = time.Duration(cfg.Timeout) * time.Second
	}
	if c.Attempts == 0 && cfg.Attempts > 0 {
		c.Attempts = cfg.Attempts
	}
	return nil
}

// Names returns the names to try for name, in order, as the stub
// resolver expands a relative name with the search list.
func (c *Client) Names(name string) []string {
	if dns.IsFqdn(name) || len(c.Search) == 0 {
		return []string{dns.Fqdn(name)}
	}
	var out []string
	asIs := strings.Count(name, ".") >= c.Ndots
	if asIs {
		out = append(out, dns.Fqdn(name))
	}
	for _, s := range c.Search {
		out = append(out, dns.Fqdn(name+"."+strings.TrimSuffix(s, ".")))
	}
	if !asIs {
		out = append(out, dns.Fqdn(name))
	}
	return out
}

// NewQuery builds the query message with the client's flags and options.
func (c *Client) NewQuery(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = !c.NoRecurse
	if qtype == dns.TypeAXFR || qtype == dns.TypeIXFR {
		return m
	}
	if c.NoEDNS {
		return m
	}
	size := c.BufSize
	if size == 0 {
		size = 1232
	}
	m.SetEdns0(size, c.DNSSEC)
	opt := m.IsEdns0()
	if c.NSID {
		opt.Option = append(opt.Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
	}
	if c.Subnet.IsValid() {
		p := c.Subnet.Masked()
		e := &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, SourceNetmask: uint8(p.Bits()), Address: p.Addr().AsSlice()}
		e.Family = 1
		if p.Addr().Is6() {
			e.Family = 2
		}
		opt.Option = append(opt.Option, e)
	}
	if c.Cookie {
		var b [8]byte
		for i := range b {
			b[i] = byte(dns.Id())
		}
		opt.Option = append(opt.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: fmt.Sprintf("%x", b)})
	}
	return m
}

// Exchange sends q to the servers in turn, each Attempts times, until one
// answers; a truncated UDP answer is asked again over TCP. An answer with
// any rcode (NXDOMAIN, SERVFAIL, REFUSED) is an answer.
func (c *Client) Exchange(ctx context.Context, q *dns.Msg) (*Answer, error) {
	if len(c.Servers) == 0 {
		return nil, errors.New("no DNS server to ask: give @SERVER, or list nameservers in /etc/resolv.conf")
	}
	attempts := c.Attempts
	if attempts <= 0 {
		attempts = 2
	}
	var errs []error
	for try := 0; try < attempts; try++ {
		for _, s := range c.Servers {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			a, err := c.exchangeOne(ctx, q, s)
			if err == nil {
				return a, nil
			}
			errs = append(errs, &ServerError{Server: s, Err: err})
		}
	}
	return nil, &NoAnswerError{Name: q.Question[0].Name, Errors: errs}
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 5 * time.Second
}

func (c *Client) exchangeOne(ctx context.Context, q *dns.Msg, s Server) (*Answer, error) {
	q = q.Copy()
	q.Id = dns.Id() // a fresh ID for every attempt
	if s.Transport == HTTPS {
		return c.doh(ctx, q, s)
	}
	if h, _, err := net.SplitHostPort(s.Addr); err == nil && isInvalidTLD(h) {
		return nil, ErrInvalidName
	}
	netw := string(s.Transport)
	if s.Transport == TLS {
		netw = "tcp-tls"
	}
	dc := &dns.Client{Net: netw, Timeout: c.timeout(), TLSConfig: c.tlsConfig(s)}
	if s.Transport == UDP {
		dc.UDPSize = 65535 // read whatever arrives; the buffer we announce is in the OPT record
	}
	var r *dns.Msg
	var rtt time.Duration
	var err error
	if s.Transport == UDP {
		r, rtt, err = exchangeUDP(ctx, q, s.Addr, c.timeout())
	} else {
		r, rtt, err = dc.ExchangeContext(ctx, q, s.Addr)
	}
	if err != nil {
		return nil, err
	}
	if err := matches(q, r); err != nil {
		return nil, err
	}
	a := &Answer{Msg: r, Server: s, Transport: s.Transport, RTT: rtt, Size: wireLen(r)}
	if r.Truncated && s.Transport == UDP {
		// miekg/dns does not do this for us: the full answer is over TCP.
		tc := &dns.Client{Net: "tcp", Timeout: c.timeout()}
		r2, rtt2, err := tc.ExchangeContext(ctx, q, s.Addr)
		if err != nil {
			return nil, fmt.Errorf("the UDP answer was truncated, and TCP failed: %w", err)
		}
		if err := matches(q, r2); err != nil {
			return nil, err
		}
		a.Msg, a.Transport, a.RTT, a.Size, a.Retried = r2, TCP, rtt+rtt2, wireLen(r2), true
	}
	return a, nil
}

func (c *Client) tlsConfig(s Server) *tls.Config {
	cfg := c.TLSConfig
	if cfg == nil {
		cfg = &tls.Config{}
	}
	cfg = cfg.Clone()
	if cfg.ServerName == "" {
		h, _, _ := net.SplitHostPort(s.Addr)
		cfg.ServerName = h
	}
	return cfg
}

// matches checks that a response answers the query: same ID, same question.
func matches(q, r *dns.Msg) error {
	if r.Id != q.Id {
		return fmt.Errorf("the answer's ID %d is not the query's %d", r.Id, q.Id)
	}
	if !r.Response {
		return errors.New("the reply is not a response (QR clear)")
	}
	if len(r.Question) > 0 && (len(r.Question) != 1 || !sameName(r.Question[0].Name, q.Question[0].Name) || r.Question[0].Qtype != q.Question[0].Qtype || r.Question[0].Qclass != q.Question[0].Qclass) {
		return fmt.Errorf("the answer is to another question (%s)", r.Question[0].String())
	}
	return nil
}

// sameName compares two names as the wire has them: label by label, the
// ASCII letters without regard to case (RFC 4343) and every other byte
// exactly, whatever escapes their presentation forms use.
func sameName(a, b string) bool {
	wa, wb := make([]byte, 256), make([]byte, 256)
	na, ea := dns.PackDomainName(dns.Fqdn(a), wa, 0, nil, false)
	nb, eb := dns.PackDomainName(dns.Fqdn(b), wb, 0, nil, false)
	if ea != nil || eb != nil || na != nb {
		return false
	}
	for i := range na {
		x, y := wa[i], wb[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// exchangeUDP asks q of addr over UDP and waits for its answer: a reply
// with another ID, or the same ID and another question (a forgery, or a
// late answer to an earlier query), is ignored and the wait goes on, as
// RFC 5452 asks. The socket is connected, so the kernel passes on only
// datagrams from addr.
func exchangeUDP(ctx context.Context, q *dns.Msg, addr string, timeout time.Duration) (*dns.Msg, time.Duration, error) {
	wire, err := q.Pack()
	if err != nil {
		return nil, 0, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return nil, 0, err
	}
	defer conn.Close()
	deadline := time.Now().Add(timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	start := time.Now()
	if _, err := conn.Write(wire); err != nil {
		return nil, 0, err
	}
	buf := make([]byte, 65535)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil, 0, ctx.Err()
			}
			return nil, 0, err
		}
		r := new(dns.Msg)
		if r.Unpack(buf[:n]) != nil || matches(q, r) != nil {
			continue // not the answer: keep waiting for it
		}
		return r, time.Since(start), nil
	}
}

// doh sends a query over HTTPS with POST (RFC 8484 section 4.1).
func (c *Client) doh(ctx context.Context, q *dns.Msg, s Server) (*Answer, error) {
	q.Id = 0 // RFC 8484 section 4.1: ID 0 for cache friendliness
	wire, err := q.Pack()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", s.URL, bytes.NewReader(wire))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/dns-message")
	req.Header.Set("Accept", "application/dns-message")
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{TLSClientConfig: c.tlsConfig(s), ForceAttemptHTTP2: true}}
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 65536))
	rtt := time.Since(start)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/dns-message" {
		return nil, fmt.Errorf("Content-Type %q is not application/dns-message", ct)
	}
	r := new(dns.Msg)
	if err := r.Unpack(body); err != nil {
		return nil, fmt.Errorf("unpacking the answer: %w", err)
	}
	if err := matches(q, r); err != nil {
		return nil, err
	}
	return &Answer{Msg: r, Server: s, Transport: HTTPS, RTT: rtt, Size: len(body)}, nil
}

// wireLen is the size of a message as servers send it: compressed.
func wireLen(m *dns.Msg) int {
	c := m.Compress
	m.Compress = true
	n := m.Len()
	m.Compress = c
	return n
}
