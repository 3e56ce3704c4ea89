package httpwire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
)

// Request is a request to send. Build one with [NewRequest].
type Request struct {
	Method string
	URL    *url.URL
	// Header holds the caller's fields, sent in order after Host. A field
	// here replaces the default of the same name (Host, User-Agent,
	// Accept, Accept-Encoding).
	Header Header
	// Omit names default fields to leave out.
	Omit []string
	// Body is sent after the head. With ContentLength >= 0 exactly that
	// many bytes are sent (a shorter body is an error); with -1 the body
	// goes chunked.
	Body          io.Reader
	ContentLength int64
	// GetBody returns a fresh copy of Body, so the request can be sent
	// again: to follow a 307 or 308, or to retry on a new connection.
	GetBody func() (io.Reader, error)
}

// NewRequest builds a request for an http or https URL. A body from
// bytes.Reader, strings.Reader, bytes.Buffer or a regular *os.File gets
// its length and can be sent again; any other body goes chunked and once.
func NewRequest(method, rawURL string, body io.Reader) (*Request, error) {
	if !isToken(method) {
		return nil, fmt.Errorf("invalid method %q: a method is a token (letters, digits and !#$%%&'*+-.^_`|~)", method)
	}
	u, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	req := &Request{Method: method, URL: u}
	if body != nil {
		if err := req.SetBody(body); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// SetBody sets the body, its length and GetBody as [NewRequest] does.
func (r *Request) SetBody(body io.Reader) error {
	r.Body, r.ContentLength, r.GetBody = body, -1, nil
	switch b := body.(type) {
	case *bytes.Reader:
		snap := *b
		r.ContentLength = int64(b.Len())
		r.GetBody = func() (io.Reader, error) { c := snap; return &c, nil }
	case *strings.Reader:
		snap := *b
		r.ContentLength = int64(b.Len())
		r.GetBody = func() (io.Reader, error) { c := snap; return &c, nil }
	case *bytes.Buffer:
		buf := b.Bytes()
		r.ContentLength = int64(len(buf))
		r.GetBody = func() (io.Reader, error) { return bytes.NewReader(buf), nil }
	case *os.File:
		fi, err := b.Stat()
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		off, err := b.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil
		}
		r.ContentLength = fi.Size() - off
		r.GetBody = func() (io.Reader, error) {
			_, err := b.Seek(off, io.SeekStart)
			return b, err
		}
	}
	return nil
}

// ParseURL parses an absolute http or https URL and says what is wrong
// with one it cannot use.
func ParseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("invalid URL %q: %v", s, err)
	}
	switch u.Scheme {
	case "http", "https":
	case "":
		return nil, fmt.Errorf("invalid URL %q: it needs a scheme, http:// or https://", s)
	default:
		return nil, fmt.Errorf("invalid URL %q: scheme %q is not http or https", s, u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("invalid URL %q: it has no host", s)
	}
	if u.User != nil {
		return nil, fmt.Errorf("invalid URL %q: credentials in URLs are not sent; use -H 'Authorization: ...'", s)
	}
	if p := u.Port(); p != "" {
		if _, err := parsePort(p); err != nil {
			return nil, fmt.Errorf("invalid URL %q: %v", s, err)
		}
	}
	return u, nil
}

func parsePort(p string) (uint16, error) {
	n := 0
	for i := 0; i < len(p); i++ {
		if !isDigit(p[i]) || n > 65535 {
			return 0, fmt.Errorf("port %q is not 0-65535", p)
		}
		n = n*10 + int(p[i]-'0')
	}
	if n > 65535 || p == "" {
		return 0, fmt.Errorf("port %q is not 0-65535", p)
	}
	return uint16(n), nil
}

// hostPort returns the URL's host and port, the port defaulted by scheme.
func hostPort(u *url.URL) (host, port string) {
	host, port = u.Hostname(), u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return host, port
}

// hostHeader is the Host field value: the authority without a default port.
func hostHeader(u *url.URL) string {
	h := u.Host
	if p := u.Port(); u.Scheme == "http" && p == "80" || u.Scheme == "https" && p == "443" {
		h = strings.TrimSuffix(h, ":"+p)
	}
	return h
}

// sendsBody reports whether the request carries a body section.
func (r *Request) sendsBody() bool {
	return r.Body != nil || r.ContentLength > 0
}

// head renders the request line and header section.
func (r *Request) head(userAgent string, gzip bool) ([]byte, error) {
	if !isToken(r.Method) {
		return nil, fmt.Errorf("invalid method %q: a method is a token", r.Method)
	}
	if err := r.Header.Validate(); err != nil {
		return nil, err
	}
	target := r.URL.RequestURI()
	if strings.ContainsAny(target, " \r\n\x00") {
		return nil, fmt.Errorf("request target %q holds a space or control byte", target)
	}
	var b bytes.Buffer
	b.WriteString(r.Method + " " + target + " HTTP/1.1\r\n")
	host := hostHeader(r.URL)
	if r.Header.Has("Host") {
		host = r.Header.Get("Host")
	}
	b.WriteString("Host: " + host + "\r\n") // HTTP/1.1 requires it (RFC 9112 section 3.2)
	defaults := Header{{"User-Agent", userAgent}, {"Accept", "*/*"}}
	if gzip {
		defaults = append(defaults, Field{"Accept-Encoding", "gzip"})
	}
	for _, f := range defaults {
		if f.Value != "" && !r.Header.Has(f.Name) && !omitted(r.Omit, f.Name) {
			b.WriteString(f.Name + ": " + f.Value + "\r\n")
		}
	}
	for _, f := range r.Header {
		if strings.EqualFold(f.Name, "Host") {
			continue // written first
		}
		b.WriteString(f.Name + ": " + f.Value + "\r\n")
	}
	switch {
	case r.ContentLength >= 0 && (r.sendsBody() || r.Method == "POST" || r.Method == "PUT" || r.Method == "PATCH"):
		fmt.Fprintf(&b, "Content-Length: %d\r\n", r.ContentLength)
	case r.ContentLength < 0 && r.Body != nil:
		b.WriteString("Transfer-Encoding: chunked\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes(), nil
}

func omitted(list []string, name string) bool {
	for _, n := range list {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// writeBody sends the body, reporting each piece to sent.
func (r *Request) writeBody(w *bufio.Writer, sent func([]byte)) error {
	if r.Body == nil {
		if r.ContentLength > 0 {
			return fmt.Errorf("request declares %d body bytes but has no body", r.ContentLength)
		}
		return nil
	}
	buf := make([]byte, 32<<10)
	var total int64
	for {
		n, err := r.Body.Read(buf)
		if n > 0 {
			if r.ContentLength >= 0 && total+int64(n) > r.ContentLength {
				return fmt.Errorf("request body is longer than its declared %d bytes", r.ContentLength)
			}
			total += int64(n)
			var piece []byte
			if r.ContentLength < 0 {
				piece = fmt.Appendf(nil, "%x\r\n%s\r\n", n, buf[:n])
			} else {
				piece = buf[:n]
			}
			if _, werr := w.Write(piece); werr != nil {
				return werr
			}
			if sent != nil {
				sent(piece)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the request body: %w", err)
		}
	}
	if r.ContentLength >= 0 && total != r.ContentLength {
		return fmt.Errorf("request body ended after %d of its declared %d bytes", total, r.ContentLength)
	}
	if r.ContentLength < 0 {
		if _, err := w.WriteString("0\r\n\r\n"); err != nil {
			return err
		}
		if sent != nil {
			sent([]byte("0\r\n\r\n"))
		}
	}
	return nil
}
