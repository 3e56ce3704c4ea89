package httpwire

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/internal/testutil"
)

// rawServer answers each request it reads with the next scripted response,
// written byte for byte. A response that ends in "<close>" is followed by
// closing the connection. It counts the connections it accepted and keeps
// the requests it read.
type rawServer struct {
	URL   string
	conns atomic.Int32
	mu    sync.Mutex
	reqs  []string
	resps []string
}

func newRawServer(t *testing.T, responses ...string) *rawServer {
	t.Helper()
	l := testutil.Listen(t, "tcp4")
	s := &rawServer{URL: "http://" + l.Addr().String(), resps: responses}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			wg.Add(1)
			go func() { defer wg.Done(); s.serve(c) }()
		}
	}()
	return s
}

func (s *rawServer) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		req, err := readRawRequest(br)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, req)
		if len(s.resps) == 0 {
			s.mu.Unlock()
			return
		}
		resp := s.resps[0]
		s.resps = s.resps[1:]
		s.mu.Unlock()
		closeAfter := strings.HasSuffix(resp, "<close>")
		resp = strings.TrimSuffix(resp, "<close>")
		if _, err := io.WriteString(c, resp); err != nil || closeAfter {
			return
		}
	}
}

// readRawRequest reads a request head and a Content-Length body.
func readRawRequest(br *bufio.Reader) (string, error) {
	var b strings.Builder
	n := 0
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", err
		}
		b.WriteString(line)
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Content-Length") {
			n, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		if line == "\r\n" {
			break
		}
	}
	if strings.Contains(b.String(), "Transfer-Encoding: chunked\r\n") {
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return "", err
			}
			b.WriteString(line)
			size, err := strconv.ParseInt(strings.TrimSpace(line), 16, 64)
			if err != nil {
				return "", err
			}
			chunk := make([]byte, size+2)
			if _, err := io.ReadFull(br, chunk); err != nil {
				return "", err
			}
			b.Write(chunk)
			if size == 0 {
				return b.String(), nil
			}
		}
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return "", err
	}
	b.Write(body)
	return b.String(), nil
}

func (s *rawServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reqs...)
}

type rawCase struct {
	name    string
	method  string
	resp    string
	status  int
	body    string
	framing Framing
	close   bool
	trailer Header
	interim []int
	excess  int
	err     string // expected error, from Do or from reading the body
}

func TestRawResponses(t *testing.T) {
	cases := []rawCase{
		{name: "content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
			status: 200, body: "hello", framing: Length},
		{name: "repeated equal content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\nhello",
			status: 200, body: "hello", framing: Length},
		{name: "chunked with extensions and trailers",
			resp:   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5;name=value;q=\"a \\\"b\\\"\"\r\nhello\r\n1 ; ext\r\n,\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\nX-Other: yes\r\n\r\n",
			status: 200, body: "hello, world", framing: Chunked, trailer: Header{{"X-Sum", "42"}, {"X-Other", "yes"}}},
		{name: "100 and 103 before 200",
			resp:   "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
			status: 200, body: "ok", framing: Length, interim: []int{100, 103}},
		{name: "head with content-length", method: "HEAD", resp: "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
			status: 200, body: "", framing: NoBody},
		{name: "204 has no body", resp: "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
			status: 204, framing: NoBody},
		{name: "304 has no body", resp: "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n",
			status: 304, framing: NoBody},
		{name: "content-length with transfer-encoding",
			resp:   "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
			status: 200, body: "abc", framing: Chunked, close: true},
		{name: "until close", resp: "HTTP/1.1 200 OK\r\n\r\nall of it<close>",
			status: 200, body: "all of it", framing: UntilClose, close: true},
		{name: "http/1.0 closes", resp: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
			status: 200, body: "ok", framing: Length, close: true},
		{name: "connection close", resp: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
			status: 200, body: "ok", framing: Length, close: true},
		{name: "bare LF line endings", resp: "HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
			status: 200, body: "ok", framing: Length},
		{name: "no reason phrase", resp: "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok",
			status: 200, body: "ok", framing: Length},
		{name: "stray bytes after the body", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA",
			status: 200, body: "hello", framing: Length, excess: 5},

		{name: "early close", resp: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello<close>",
			err: "connection closed after 5 of 10 body bytes"},
		{name: "early close in chunk", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\nhello<close>",
			err: "connection closed inside a chunk"},
		{name: "close before last chunk", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n<close>",
			err: "connection closed before the last chunk"},
		{name: "close in head", resp: "HTTP/1.1 200 OK\r\nContent-Le<close>",
			err: "connection closed in the middle of the header section"},
		{name: "conflicting content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
			err: "conflicting Content-Length values 5 and 6"},
		{name: "negative content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
			err: `invalid Content-Length "-1"`},
		{name: "signed content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
			err: `invalid Content-Length "+5"`},
		{name: "huge content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
			err: "invalid Content-Length"},
		{name: "bad chunk size", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
			err: "chunk size is not a hexadecimal number"},
		{name: "chunk size overflow", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
			err: "chunk size overflows"},
		{name: "chunk without CRLF", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhiX\r\n0\r\n\r\n",
			err: "chunk data is not followed by CRLF"},
		{name: "bad chunk extension", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2 junk\r\nhi\r\n0\r\n\r\n",
			err: "not a chunk extension"},
		{name: "space before colon", resp: "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n",
			err: "whitespace between a field name and its colon"},
		{name: "not http", resp: "SSH-2.0-OpenSSH_9.2\r\n\r\n",
			err: "status line is not"},
		{name: "http/2 status line", resp: "HTTP/2.0 200 OK\r\n\r\n",
			err: "is not HTTP/1.x"},
		{name: "status code out of range", resp: "HTTP/1.1 999 Odd\r\n\r\n",
			err: "outside 100-599"},
		{name: "unknown transfer coding", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
			err: "unsupported transfer coding"},
		{name: "chunked twice", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
			err: "applies chunked twice"},
		{name: "bare CR", resp: "HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n",
			err: "bare CR"},
		{name: "nothing", resp: "<close>",
			err: "closed the connection without a response"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRawServer(t, tc.resp)
			method := tc.method
			if method == "" {
				method = "GET"
			}
			var c Client
			defer c.CloseIdle()
			req, err := NewRequest(method, srv.URL+"/x", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Do(context.Background(), req)
			var body []byte
			if err == nil {
				body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || string(body) != tc.body || resp.Framing != tc.framing || resp.Close != tc.close {
				t.Errorf("got %d %q framing %v close %v, want %d %q framing %v close %v",
					resp.StatusCode, body, resp.Framing, resp.Close, tc.status, tc.body, tc.framing, tc.close)
			}
			if !slices.Equal(resp.Trailer, tc.trailer) {
				t.Errorf("trailer = %v, want %v", resp.Trailer, tc.trailer)
			}
			var codes []int
			for _, in := range resp.Interim {
				codes = append(codes, in.StatusCode)
			}
			if !slices.Equal(codes, tc.interim) {
				t.Errorf("interim = %v, want %v", codes, tc.interim)
			}
			if resp.Excess != tc.excess {
				t.Errorf("excess = %d, want %d", resp.Excess, tc.excess)
			}
			if method == "HEAD" && resp.ContentLength != 1000 {
				t.Errorf("HEAD ContentLength = %d, want the announced 1000", resp.ContentLength)
			}
			if tc.interim != nil && resp.Interim[1].Header.Get("Link") != "</s.css>; rel=preload" {
				t.Errorf("103 header = %v", resp.Interim[1].Header)
			}
		})
	}
}

func TestKeepAliveReusesTheConnection(t *testing.T) {
	ok := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	head := "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
	chunked := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
	srv := newRawServer(t, ok, head, chunked, ok)
	var c Client
	defer c.CloseIdle()
	for i, m := range []string{"GET", "HEAD", "GET", "GET"} {
		req, _ := NewRequest(m, srv.URL+"/"+strconv.Itoa(i), nil)
		resp, err := c.Do(context.Background(), req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("request %d body: %v", i, err)
		}
		if want := map[bool]string{true: "", false: "ok"}[m == "HEAD"]; string(b) != want {
			t.Errorf("request %d body %q, want %q", i, b, want)
		}
		if resp.Reused != (i > 0) {
			t.Errorf("request %d: Reused = %v", i, resp.Reused)
		}
	}
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("%d connections for 4 requests, want 1", n)
	}
}

func TestStrayBytesStopReuse(t *testing.T) {
	srv := newRawServer(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nforgd",
		"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nreal")
	var c Client
	defer c.CloseIdle()
	for i, want := range []string{"ok", "real"} {
		resp, err := c.Get(context.Background(), srv.URL+"/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		if string(b) != want {
			t.Fatalf("response %d body %q, want %q: a stray response was taken for an answer", i, b, want)
		}
	}
	if n := srv.conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2 (no reuse after stray bytes)", n)
	}
}

// A server that closes an idle connection: the next request notices and
// goes on a new one.
func TestRetryWhenIdleConnectionWasClosed(t *testing.T) {
	srv := newRawServer(t, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na<close>", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb")
	var c Client
	defer c.CloseIdle()
	for _, want := range []string{"a", "b"} {
		resp, err := c.Get(context.Background(), srv.URL+"/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		if string(b) != want {
			t.Fatalf("body %q, want %q", b, want)
		}
		time.Sleep(20 * time.Millisecond) // let the close arrive
	}
}

func TestRequestBytes(t *testing.T) {
	srv := newRawServer(t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	var c Client
	c.UserAgent = "test/1"
	defer c.CloseIdle()
	req, _ := NewRequest("POST", srv.URL+"/p?q=1#frag", strings.NewReader("a=1"))
	req.Header.Add("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Add("Accept", "text/plain")
	resp, err := c.Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// A body of unknown length goes chunked.
	req, _ = NewRequest("PUT", srv.URL+"/c", io.MultiReader(strings.NewReader("ab"), strings.NewReader("cde")))
	resp, err = c.Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	want := []string{
		"POST /p?q=1 HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: test/1\r\nContent-Type: application/x-www-form-urlencoded\r\nAccept: text/plain\r\nContent-Length: 3\r\n\r\na=1",
		"PUT /c HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: test/1\r\nAccept: */*\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n",
	}
	got := srv.requests()
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("requests:\n%q\nwant\n%q", got, want)
	}
}

func TestOutgoingHeaderInjectionRefused(t *testing.T) {
	for _, f := range []Field{
		{"X-A", "one\r\nX-Injected: yes"},
		{"X-A", "bare\nLF"},
		{"X-A", "nul\x00"},
		{"Bad Name", "v"},
		{"", "v"},
		{"Content-Length", "5"},
	} {
		req, _ := NewRequest("GET", "http://127.0.0.1:1/", nil)
		req.Header = Header{f}
		var c Client
		_, err := c.Do(context.Background(), req)
		if err == nil || errors.As(err, new(*Error)) {
			t.Errorf("header %q: %v; want it refused before any connection", f, err)
		}
	}
	if _, err := NewRequest("GET /x HTTP/1.1\r\n", "http://h/", nil); err == nil {
		t.Error("a method with spaces and CRLF was accepted")
	}
}

func TestHeaderLimits(t *testing.T) {
	many := "HTTP/1.1 200 OK\r\n" + strings.Repeat("X: y\r\n", 300) + "\r\n"
	big := "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", 300<<10) + "\r\n\r\n"
	// 300 fields pass by default, as curl takes them; the size is bounded.
	if _, err := ReadResponse(bufio.NewReader(strings.NewReader(many)), "GET", Limits{}); err != nil {
		t.Errorf("300 fields: %v", err)
	}
	for name, tc := range map[string]struct {
		resp string
		lim  Limits
		want string
	}{
		"count": {many, Limits{MaxFields: 200}, "more than 200 header fields (the limit is Limits.MaxFields)"},
		"size":  {big, Limits{}, ""},
	} {
		_, err := ReadResponse(bufio.NewReader(strings.NewReader(tc.resp)), "GET", tc.lim)
		var pe *ProtocolError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a ProtocolError saying %q", name, err, tc.want)
		}
	}
}

// TestObsFoldAndTransferGzip: obsolete line folding is replaced by a
// space, as RFC 9112 section 5.2 asks of a user agent, and a gzip transfer
// coding under chunked is removed.
func TestObsFoldAndTransferGzip(t *testing.T) {
	r, err := ReadResponse(bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\nX-A: one\r\n  two\r\n\tthree\r\nContent-Length: 0\r\n\r\n")), "GET", Limits{})
	if err != nil || r.Header.Get("X-A") != "one two three" {
		t.Fatalf("obs-fold: %v, %q", err, r.Header.Get("X-A"))
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("hello, transfer coding"))
	zw.Close()
	body := fmt.Sprintf("%x\r\n%s\r\n0\r\nX-T: done\r\n\r\n", gz.Len(), gz.Bytes())
	r, err = ReadResponse(bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"+body)), "GET", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r.Body)
	if err != nil || string(got) != "hello, transfer coding" || r.Trailer.Get("X-T") != "done" {
		t.Errorf("gzip, chunked: %q, %v, trailer %v", got, err, r.Trailer)
	}
	if _, err := ReadResponse(bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\nTransfer-Encoding: br, chunked\r\n\r\n0\r\n\r\n")), "GET", Limits{}); err == nil || !strings.Contains(err.Error(), "unsupported transfer coding") {
		t.Errorf("br, chunked: %v", err)
	}
}

func TestEscapeHead(t *testing.T) {
	in := "HTTP/1.1 200 OK\r\nX-Evil: \x1b[2J\x1b]0;pwned\x07\r\nX-Tab:\ta\r\n\r\n"
	want := "HTTP/1.1 200 OK\r\nX-Evil: \\x1b[2J\\x1b]0;pwned\\x07\r\nX-Tab:\ta\r\n\r\n"
	if got := string(EscapeHead([]byte(in))); got != want {
		t.Errorf("EscapeHead = %q, want %q", got, want)
	}
}

func TestURLs(t *testing.T) {
	for _, s := range []string{"ftp://h/", "h/x", "http:///x", "http://h:99999/", "http://u:p@h/"} {
		if _, err := ParseURL(s); err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("ParseURL(%q) = %v, want an error that quotes it", s, err)
		}
	}
	u, _ := ParseURL("https://[::1]:443/a")
	if got := hostHeader(u); got != "[::1]" {
		t.Errorf("Host for default port = %q", got)
	}
}

func TestBodyShorterThanDeclaredIsAnError(t *testing.T) {
	srv := newRawServer(t)
	req, _ := NewRequest("POST", srv.URL+"/", nil)
	req.Body, req.ContentLength = strings.NewReader("abc"), 10
	var c Client
	_, err := c.Do(context.Background(), req)
	if err == nil || !strings.Contains(err.Error(), "ended after 3 of its declared 10 bytes") {
		t.Fatalf("err = %v", err)
	}
	_ = bytes.MinRead
}
