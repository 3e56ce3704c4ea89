package httpwire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits bound what a response may make the client hold. The zero value
// means the defaults.
type Limits struct {
	// MaxHeaderBytes caps a header or trailer section, start line
	// included. Default 256 KiB.
	MaxHeaderBytes int
	// MaxFields caps the number of fields in a section. Default 10,000.
	MaxFields int
}

const (
	defaultMaxHeaderBytes = 256 << 10
	defaultMaxFields      = 10000 // curl has no count, only a size; the 256 KiB of MaxHeaderBytes binds first
	maxChunkLine          = 4096
)

func (l Limits) headerBytes() int {
	if l.MaxHeaderBytes > 0 {
		return l.MaxHeaderBytes
	}
	return defaultMaxHeaderBytes
}

func (l Limits) fields() int {
	if l.MaxFields > 0 {
		return l.MaxFields
	}
	return defaultMaxFields
}

// Framing says how a response body is delimited (RFC 9112 section 6.3).
type Framing int

const (
	// NoBody: HEAD responses, 1xx, 204 and 304 carry no body.
	NoBody Framing = iota
	// Length: the body is Content-Length bytes.
	Length
	// Chunked: the body is in chunks (RFC 9112 section 7.1).
	Chunked
	// UntilClose: the body runs until the server closes the connection.
	UntilClose
)

func (f Framing) String() string {
	switch f {
	case NoBody:
		return "none"
	case Length:
		return "content-length"
	case Chunked:
		return "chunked"
	case UntilClose:
		return "until-close"
	case Frames:
		return "http2-frames"
	}
	return "framing(" + strconv.Itoa(int(f)) + ")"
}

// Interim is a 1xx response received before the final one, such as
// 100 Continue or 103 Early Hints.
type Interim struct {
	StatusCode int
	Reason     string
	Header     Header
	Head       []byte // as received
}

// Response is a final response. Its Body must be read to the end or closed.
type Response struct {
	Proto      string // "HTTP/1.1"
	ProtoMajor int
	ProtoMinor int
	StatusCode int
	Reason     string
	Header     Header
	// Trailer holds the trailer section of a chunked body once the body
	// has been read to its end.
	Trailer Header
	// Interim holds the 1xx responses that came before this one.
	Interim []Interim
	// Head is the status line and header section exactly as received.
	Head []byte

	Framing Framing
	// ContentLength is the body's length when Framing is Length; for a
	// HEAD response it is the length the server announced; otherwise -1.
	ContentLength int64
	// Close reports that the connection cannot carry another request.
	Close bool
	// Excess counts bytes that followed the end of the body: a broken
	// server. The connection is not reused when it is non-zero.
	Excess int
	// Uncompressed reports that a gzip body was decoded; Body yields the
	// decoded bytes and ContentLength is -1.
	Uncompressed bool

	Body io.ReadCloser

	Request   *Request
	Timing    Timing
	Redirects []Redirect // the redirects followed to get here, in order
	// RemoteAddr is the address of the server that answered.
	RemoteAddr string
	// Reused reports whether the connection had carried earlier requests.
	Reused bool
}

// Redirect is one redirect that was followed.
type Redirect struct {
	StatusCode int    `json:"status"`
	From       string `json:"from"` // the URL that answered with the redirect
	To         string `json:"to"`   // the Location it gave, resolved
}

// ProtocolError is a response that breaks HTTP/1.1's syntax or framing.
type ProtocolError struct {
	What string // what was wrong
	Line string // the offending line, if any
}

func (e *ProtocolError) Error() string {
	if e.Line == "" {
		return "malformed response: " + e.What
	}
	return fmt.Sprintf("malformed response: %s in %q", e.What, e.Line)
}

func protoErr(line []byte, format string, args ...any) error {
	l := string(bytes.TrimRight(line, "\r\n"))
	if len(l) > 120 {
		l = l[:120] + "..."
	}
	return &ProtocolError{What: fmt.Sprintf(format, args...), Line: l}
}

// ReadResponse reads one response to a request with the given method from
// r: any 1xx responses, then the final one. The body reads from r; the
// caller must read it to its end before reading another response. A
// response that breaks the syntax or framing rules is a *ProtocolError.
func ReadResponse(r *bufio.Reader, method string, lim Limits) (*Response, error) {
	var interim []Interim
	for {
		resp, err := readHead(r, lim)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != 101 {
			interim = append(interim, Interim{resp.StatusCode, resp.Reason, resp.Header, resp.Head})
			if len(interim) > lim.fields() {
				return nil, &ProtocolError{What: fmt.Sprintf("more than %d interim (1xx) responses", lim.fields())}
			}
			continue
		}
		resp.Interim = interim
		if err := frame(resp, r, method, lim); err != nil {
			return nil, err
		}
		return resp, nil
	}
}

// readHead reads a status line and header section.
func readHead(r *bufio.Reader, lim Limits) (*Response, error) {
	var head []byte
	budget := lim.headerBytes()
	line, err := readLine(r, &head, &budget, "status line")
	if err != nil {
		if errors.Is(err, io.EOF) && len(head) == 0 {
			return nil, io.EOF
		}
		return nil, err
	}
	resp := &Response{ContentLength: -1}
	if err := parseStatusLine(resp, line); err != nil {
		return nil, err
	}
	resp.Header, err = readFields(r, &head, &budget, lim, "header")
	if err != nil {
		return nil, err
	}
	resp.Head = head
	return resp, nil
}

// readLine reads one line, appending its raw bytes to raw and charging them
// to budget. It returns the line without its terminator: CRLF, or a bare LF
// (RFC 9112 section 2.2 lets a recipient accept it). A CR anywhere else is
// an error.
func readLine(r *bufio.Reader, raw *[]byte, budget *int, what string) ([]byte, error) {
	start := len(*raw)
	for {
		frag, err := r.ReadSlice('\n')
		if len(frag) > *budget {
			return nil, &ProtocolError{What: fmt.Sprintf("%s longer than the limit of %d bytes", what, len(*raw)-start+*budget)}
		}
		*budget -= len(frag)
		*raw = append(*raw, frag...)
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			if len(*raw) == start {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("connection closed in the middle of the %s: %w", what, io.ErrUnexpectedEOF)
		}
		return nil, err
	}
	line := (*raw)[start : len(*raw)-1]
	line = bytes.TrimSuffix(line, []byte{'\r'})
	if bytes.IndexByte(line, '\r') >= 0 {
		return nil, protoErr(line, "bare CR in the %s", what)
	}
	return line, nil
}

func parseStatusLine(resp *Response, line []byte) error {
	// status-line = HTTP-version SP status-code SP [ reason-phrase ]
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/")) || line[6] != '.' ||
		!isDigit(line[5]) || !isDigit(line[7]) || line[8] != ' ' {
		return protoErr(line, "status line is not \"HTTP/1.x NNN reason\"")
	}
	resp.ProtoMajor, resp.ProtoMinor = int(line[5]-'0'), int(line[7]-'0')
	if resp.ProtoMajor != 1 {
		return protoErr(line, "HTTP/%d.%d is not HTTP/1.x", resp.ProtoMajor, resp.ProtoMinor)
	}
	resp.Proto = string(line[:8])
	code := line[9:12]
	if !isDigit(code[0]) || !isDigit(code[1]) || !isDigit(code[2]) {
		return protoErr(line, "status code %q is not three digits", code)
	}
	resp.StatusCode = int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0')
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return protoErr(line, "status code %d is outside 100-599", resp.StatusCode)
	}
	rest := line[12:]
	switch {
	case len(rest) == 0:
	case rest[0] == ' ':
		resp.Reason = string(rest[1:])
	default:
		return protoErr(line, "status code is not followed by a space")
	}
	if i := bytes.IndexAny([]byte(resp.Reason), "\x00"); i >= 0 {
		return protoErr(line, "NUL in the reason phrase")
	}
	return nil
}

// readFields reads field lines up to the empty line that ends a section.
func readFields(r *bufio.Reader, raw *[]byte, budget *int, lim Limits, what string) (Header, error) {
	var h Header
	for {
		line, err := readLine(r, raw, budget, what+" section")
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("connection closed in the %s section: %w", what, io.ErrUnexpectedEOF)
			}
			return nil, err
		}
		if len(line) == 0 {
			return h, nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(h) == 0 {
				return nil, protoErr(line, "whitespace before the first %s field", what)
			}
			// Obsolete line folding: a user agent replaces it with a space
			// (RFC 9112 section 5.2).
			more := bytes.Trim(line, " \t")
			if bytes.IndexByte(more, 0) >= 0 {
				return nil, protoErr(line, "NUL in the value of %s", h[len(h)-1].Name)
			}
			if len(more) > 0 {
				h[len(h)-1].Value = strings.TrimLeft(h[len(h)-1].Value+" "+string(more), " ")
			}
			continue
		}
		if len(h) == lim.fields() {
			return nil, &ProtocolError{What: fmt.Sprintf("more than %d %s fields (the limit is Limits.MaxFields)", lim.fields(), what)}
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			return nil, protoErr(line, "%s field without a colon", what)
		}
		name := line[:colon]
		if len(name) == 0 {
			return nil, protoErr(line, "empty %s field name", what)
		}
		for _, c := range name {
			if !isTokenChar(c) {
				if c == ' ' || c == '\t' {
					return nil, protoErr(line, "whitespace between a field name and its colon (RFC 9112 section 5.1)")
				}
				return nil, protoErr(line, "field name holds %s", charName(c))
			}
		}
		value := bytes.Trim(line[colon+1:], " \t")
		if i := bytes.IndexByte(value, 0); i >= 0 {
			return nil, protoErr(line, "NUL in the value of %s", name)
		}
		h = append(h, Field{string(name), string(value)})
	}
}

// frame decides how the body is delimited and attaches a reader for it.
func frame(resp *Response, r *bufio.Reader, method string, lim Limits) error {
	h := resp.Header
	conn := h.List("Connection")
	resp.Close = hasToken(conn, "close") || resp.ProtoMinor == 0 && !hasToken(conn, "keep-alive")

	cl, hasCL, err := contentLength(h)
	if err != nil {
		return err
	}
	te := h.List("Transfer-Encoding")
	if method == "HEAD" || resp.StatusCode/100 == 1 || resp.StatusCode == 204 || resp.StatusCode == 304 {
		resp.Framing = NoBody
		if hasCL && method == "HEAD" || hasCL && resp.StatusCode == 304 {
			resp.ContentLength = cl
		}
		if resp.StatusCode == 101 {
			resp.Close = true // the connection now speaks another protocol
		}
		resp.Body = noBody{}
		return nil
	}
	switch {
	case len(te) > 0 && resp.ProtoMinor == 0:
		// RFC 9112 section 6.1: HTTP/1.0 has no Transfer-Encoding, so the
		// framing is faulty; the safe reading is the body up to the close.
		resp.Framing, resp.Close = UntilClose, true
		resp.Body = &closeReader{r: r}
	case len(te) > 0:
		if hasCL {
			// RFC 9112 section 6.1: Content-Length is ignored and the
			// framing is suspect; close after this response.
			resp.Close = true
		}
		chunked := 0
		for _, c := range te {
			if strings.EqualFold(c, "chunked") {
				chunked++
			}
		}
		switch {
		case chunked > 1:
			return &ProtocolError{What: fmt.Sprintf("Transfer-Encoding %q applies chunked twice", strings.Join(te, ", "))}
		case chunked == 1 && !strings.EqualFold(te[len(te)-1], "chunked"):
			return &ProtocolError{What: fmt.Sprintf("Transfer-Encoding %q applies chunked before another coding", strings.Join(te, ", "))}
		}
		gz := len(te) == 2 && (strings.EqualFold(te[0], "gzip") || strings.EqualFold(te[0], "x-gzip"))
		if len(te) > 1 && !gz || chunked == 0 {
			return &ProtocolError{What: fmt.Sprintf("unsupported transfer coding in %q: only chunked, and gzip before it, are understood", strings.Join(te, ", "))}
		}
		resp.Framing = Chunked
		resp.Body = &chunkedReader{r: r, lim: lim, resp: resp}
		if gz {
			// A transfer coding is the message's, not the content's: the
			// recipient removes it (RFC 9112 section 6.1).
			resp.Body = &gunzip{src: resp.Body, what: "the gzip transfer coding"}
		}
	case hasCL:
		resp.Framing, resp.ContentLength = Length, cl
		resp.Body = &lengthReader{r: r, left: cl, total: cl}
	default:
		resp.Framing, resp.Close = UntilClose, true
		resp.Body = &closeReader{r: r}
	}
	return nil
}

func hasToken(list []string, tok string) bool {
	for _, e := range list {
		if strings.EqualFold(e, tok) {
			return true
		}
	}
	return false
}

// contentLength parses every Content-Length value. Several values are
// allowed only when they are the same number (RFC 9110 section 8.6).
func contentLength(h Header) (n int64, ok bool, err error) {
	vals := h.Values("Content-Length")
	if len(vals) == 0 {
		return 0, false, nil
	}
	first := ""
	for _, v := range vals {
		for e := range strings.SplitSeq(v, ",") {
			e = strings.Trim(e, " \t")
			if e == "" || len(e) > 18 || strings.TrimLeft(e, "0123456789") != "" {
				return 0, false, &ProtocolError{What: fmt.Sprintf("invalid Content-Length %q: it must be a decimal number of at most 18 digits", v)}
			}
			if first == "" {
				first = e
				n, _ = strconv.ParseInt(e, 10, 64)
				continue
			}
			if m, _ := strconv.ParseInt(e, 10, 64); m != n {
				return 0, false, &ProtocolError{What: fmt.Sprintf("conflicting Content-Length values %s and %s", first, e)}
			}
		}
	}
	return n, true, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

type noBody struct{}

func (noBody) Read([]byte) (int, error) { return 0, io.EOF }
func (noBody) Close() error             { return nil }

// lengthReader yields exactly total bytes.
type lengthReader struct {
	r           *bufio.Reader
	left, total int64
}

func (b *lengthReader) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if errors.Is(err, io.EOF) {
		if b.left > 0 {
			return n, fmt.Errorf("connection closed after %d of %d body bytes: %w", b.total-b.left, b.total, io.ErrUnexpectedEOF)
		}
		err = nil
	}
	if err == nil && b.left == 0 {
		err = io.EOF
	}
	return n, err
}

func (b *lengthReader) Close() error { return nil }

// closeReader yields everything until the server closes.
type closeReader struct{ r *bufio.Reader }

func (b *closeReader) Read(p []byte) (int, error) { return b.r.Read(p) }
func (b *closeReader) Close() error               { return nil }

// chunkedReader decodes a chunked body (RFC 9112 section 7.1). Chunk
// extensions are checked for syntax and ignored, as a recipient that does
// not understand them must; the trailer section goes to the response.
type chunkedReader struct {
	r    *bufio.Reader
	lim  Limits
	resp *Response
	left int64 // bytes left in the current chunk
	done bool
	err  error
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.done {
		return 0, io.EOF
	}
	for c.left == 0 {
		if err := c.nextChunk(); err != nil {
			c.err = err
			return 0, err
		}
		if c.done {
			return 0, io.EOF
		}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("connection closed inside a chunk: %w", io.ErrUnexpectedEOF)
		}
		c.err = err
		return n, err
	}
	if c.left == 0 {
		if err := c.chunkEnd(); err != nil {
			c.err = err
			return n, err
		}
	}
	return n, nil
}

func (c *chunkedReader) Close() error { return nil }

// chunkEnd consumes the CRLF after a chunk's data.
func (c *chunkedReader) chunkEnd() error {
	b, err := c.r.ReadByte()
	if err == nil && b == '\r' {
		b, err = c.r.ReadByte()
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("connection closed after a chunk: %w", io.ErrUnexpectedEOF)
		}
		return err
	}
	if b != '\n' {
		return &ProtocolError{What: fmt.Sprintf("chunk data is not followed by CRLF (found %s)", charName(b))}
	}
	return nil
}

// nextChunk reads a chunk-size line, and the trailer section after the
// last chunk.
func (c *chunkedReader) nextChunk() error {
	var raw []byte
	budget := maxChunkLine
	line, err := readLine(c.r, &raw, &budget, "chunk-size line")
	if err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("connection closed before the last chunk: %w", io.ErrUnexpectedEOF)
		}
		return err
	}
	size, err := parseChunkLine(line)
	if err != nil {
		return err
	}
	if size > 0 {
		c.left = size
		return nil
	}
	budget = c.lim.headerBytes()
	trailer, err := readFields(c.r, &raw, &budget, c.lim, "trailer")
	if err != nil {
		return err
	}
	c.resp.Trailer, c.done = trailer, true
	return nil
}

// parseChunkLine parses chunk-size [ chunk-ext ].
func parseChunkLine(line []byte) (int64, error) {
	i := 0
	var size int64
	for i < len(line) && isHex(line[i]) {
		if size > (1<<63-1)>>4 {
			return 0, protoErr(line, "chunk size overflows 63 bits")
		}
		size = size<<4 | int64(unhex(line[i]))
		i++
	}
	if i == 0 {
		return 0, protoErr(line, "chunk size is not a hexadecimal number")
	}
	if err := checkChunkExt(line[i:]); err != nil {
		return 0, protoErr(line, "%s", err)
	}
	return size, nil
}

// checkChunkExt checks *( BWS ";" BWS name [ BWS "=" BWS value ] ) where a
// value is a token or a quoted string.
func checkChunkExt(s []byte) error {
	skipWS := func() {
		for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
			s = s[1:]
		}
	}
	token := func() int {
		n := 0
		for n < len(s) && isTokenChar(s[n]) {
			n++
		}
		return n
	}
	for {
		skipWS()
		if len(s) == 0 {
			return nil
		}
		if s[0] != ';' {
			return fmt.Errorf("chunk size is followed by %s, not a chunk extension", charName(s[0]))
		}
		s = s[1:]
		skipWS()
		n := token()
		if n == 0 {
			return errors.New("chunk extension without a name")
		}
		s = s[n:]
		skipWS()
		if len(s) == 0 || s[0] != '=' {
			continue
		}
		s = s[1:]
		skipWS()
		if len(s) > 0 && s[0] == '"' {
			j := 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			if j >= len(s) {
				return errors.New("unterminated quoted string in a chunk extension")
			}
			s = s[j+1:]
			continue
		}
		if n = token(); n == 0 {
			return errors.New("chunk extension without a value after '='")
		}
		s = s[n:]
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// EscapeHead returns a response head fit for a terminal: CR, LF and tab
// are kept, and every other control byte, DEL and every byte outside ASCII
// become \xNN, so that no header a server sends can move the cursor or
// change the colours (what curl -i lets through).
func EscapeHead(p []byte) []byte {
	out := make([]byte, 0, len(p))
	for _, c := range p {
		switch {
		case c == '\r' || c == '\n' || c == '\t' || c >= 0x20 && c < 0x7f:
			out = append(out, c)
		default:
			out = fmt.Appendf(out, `\x%02x`, c)
		}
	}
	return out
}
