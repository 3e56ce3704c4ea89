package httpwire

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func echoServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s auth=%q type=%q body=%q", r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRedirectMethodRules(t *testing.T) {
	target := echoServer(t)
	for _, tc := range []struct {
		code   int
		method string
		want   string
	}{
		{301, "POST", `GET /to auth="" type="" body=""`},
		{302, "POST", `GET /to auth="" type="" body=""`},
		{303, "POST", `GET /to auth="" type="" body=""`},
		{303, "PUT", `GET /to auth="" type="" body=""`},
		{301, "PUT", `PUT /to auth="" type="text/plain" body="data"`},
		{307, "POST", `POST /to auth="" type="text/plain" body="data"`},
		{308, "POST", `POST /to auth="" type="text/plain" body="data"`},
		{302, "DELETE", `DELETE /to auth="" type="text/plain" body="data"`},
	} {
		t.Run(fmt.Sprintf("%d %s", tc.code, tc.method), func(t *testing.T) {
			from := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target.URL+"/to", tc.code)
			}))
			defer from.Close()
			c := Client{FollowRedirects: true}
			defer c.CloseIdle()
			req, _ := NewRequest(tc.method, from.URL+"/from", strings.NewReader("data"))
			req.Header.Add("Content-Type", "text/plain")
			req.Header.Add("Authorization", "Bearer secret")
			resp, err := c.Do(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			if string(b) != tc.want {
				t.Errorf("got %s\nwant %s", b, tc.want)
			}
			if len(resp.Redirects) != 1 || resp.Redirects[0].StatusCode != tc.code {
				t.Errorf("redirects = %+v", resp.Redirects)
			}
		})
	}
}

func TestRedirectKeepsAuthorizationOnSameOrigin(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/a" {
			http.Redirect(w, r, "/b", http.StatusFound)
			return
		}
		fmt.Fprint(w, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	c := Client{FollowRedirects: true}
	defer c.CloseIdle()
	req, _ := NewRequest("GET", srv.URL+"/a", nil)
	req.Header.Add("Authorization", "Bearer secret")
	resp, err := c.Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != "Bearer secret" {
		t.Errorf("same-origin redirect lost Authorization: %q", b)
	}
	if !resp.Reused {
		t.Error("the redirect did not reuse the connection")
	}
}

func TestRedirectLimitAndNoFollow(t *testing.T) {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		http.Redirect(w, r, fmt.Sprintf("/%d", n), http.StatusFound)
	}))
	defer srv.Close()
	c := Client{FollowRedirects: true, MaxRedirects: 3}
	defer c.CloseIdle()
	_, err := c.Get(context.Background(), srv.URL+"/")
	if err == nil || !strings.Contains(err.Error(), "stopped after 3 redirects") {
		t.Fatalf("err = %v", err)
	}
	var plain Client
	defer plain.CloseIdle()
	resp, err := plain.Get(context.Background(), srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 302 || resp.Header.Get("Location") == "" {
		t.Errorf("without FollowRedirects: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestGzip(t *testing.T) {
	text := strings.Repeat("compress me ", 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			fmt.Fprint(w, "plain:"+text)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		io.WriteString(zw, text)
		zw.Close()
	}))
	defer srv.Close()
	c := Client{DecodeGzip: true}
	defer c.CloseIdle()
	for i := range 2 {
		resp, err := c.Get(context.Background(), srv.URL+"/")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil || string(b) != text || !resp.Uncompressed {
			t.Fatalf("request %d: %d bytes, err %v, uncompressed %v", i, len(b), err, resp.Uncompressed)
		}
		if i == 1 && !resp.Reused {
			t.Error("the connection was not reused after a gzip body")
		}
	}
}

func TestTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "tls=%v", r.TLS != nil)
	}))
	defer srv.Close()
	var strict Client
	if _, err := strict.Get(context.Background(), srv.URL); err == nil || !strings.Contains(err.Error(), "TLS handshake with") {
		t.Errorf("an unknown certificate was accepted: %v", err)
	}
	c := Client{TLSConfig: &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs, ServerName: "example.com"}}
	defer c.CloseIdle()
	for i := range 2 {
		resp, err := c.Get(context.Background(), srv.URL+"/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		if string(b) != "tls=true" || resp.Reused != (i == 1) {
			t.Errorf("request %d: %q reused=%v", i, b, resp.Reused)
		}
		if resp.Timing.TLS <= resp.Timing.Connect && i == 0 {
			t.Errorf("timing: TLS %v not after connect %v", resp.Timing.TLS, resp.Timing.Connect)
		}
	}
}

func TestTimingIsOrdered(t *testing.T) {
	srv := echoServer(t)
	var c Client
	defer c.CloseIdle()
	resp, err := c.Get(context.Background(), srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	tm := resp.Timing
	seq := []int64{int64(tm.DNS), int64(tm.Connect), int64(tm.TLS), int64(tm.Sent), int64(tm.FirstByte), int64(tm.Total)}
	for i := 1; i < len(seq); i++ {
		if seq[i] < seq[i-1] || seq[i] <= 0 {
			t.Fatalf("timing not cumulative: %+v", tm)
		}
	}
}

// The body streams: a 64 MiB download allocates a small fraction of that.
func TestBodyStreams(t *testing.T) {
	const size = 64 << 20
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/len" {
			w.Header().Set("Content-Length", fmt.Sprint(size))
		}
		buf := bytes.Repeat([]byte("x"), 64<<10)
		for sent := 0; sent < size; sent += len(buf) {
			w.Write(buf)
		}
	}))
	defer srv.Close()
	var c Client
	defer c.CloseIdle()
	for _, path := range []string{"/len", "/chunked"} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		resp, err := c.Get(context.Background(), srv.URL+path)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.CopyBuffer(io.Discard, resp.Body, make([]byte, 32<<10))
		if err != nil || n != size {
			t.Fatalf("%s: %d bytes, %v", path, n, err)
		}
		runtime.ReadMemStats(&after)
		// The server in this process allocates too; both stay far below the body.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/8 {
			t.Errorf("%s: %d bytes allocated for a %d-byte body", path, alloc, size)
		}
	}
}

// Closing a body early closes the connection rather than reusing it with
// unread bytes in it.
func TestEarlyCloseDoesNotReuse(t *testing.T) {
	srv := newRawServer(t, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	var c Client
	defer c.CloseIdle()
	resp, err := c.Get(context.Background(), srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Read(make([]byte, 3))
	resp.Body.Close()
	resp, err = c.Get(context.Background(), srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != "ok" || resp.Reused {
		t.Errorf("second body %q reused=%v", b, resp.Reused)
	}
}

func TestContextCancelsTheBody(t *testing.T) {
	srv := newRawServer(t, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
	ctx, cancel := context.WithCancel(context.Background())
	var c Client
	resp, err := c.Get(ctx, srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 7)
	io.ReadFull(resp.Body, buf)
	cancel()
	_, err = io.ReadAll(resp.Body)
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("err = %v, want the cancellation", err)
	}
}

var _ = bufio.NewReader

func TestFetchKeepsGoingAndTellsWriteErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "body")
	}))
	defer srv.Close()
	reqs, err := NewRequests("GET", []string{srv.URL + "/1", srv.URL + "/2"}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var c Client
	defer c.CloseIdle()
	var done []string
	jobs := []Job{{Request: reqs[0], Output: filepath.Join(t.TempDir(), "no", "such", "dir")}, {Request: reqs[1]}}
	var body strings.Builder
	results, err := c.Fetch(t.Context(), jobs, FetchOptions{Body: &body, Done: func(r *Result, err error) {
		done = append(done, fmt.Sprint(r.URL, " ", err != nil))
	}})
	if _, ok := errors.AsType[*WriteError](err); !ok {
		t.Fatalf("Fetch error = %v, want a *WriteError", err)
	}
	if len(results) != 2 || results[0].Error == "" || results[1].Error != "" || body.String() != "body" {
		t.Fatalf("results %+v, body %q", results, body.String())
	}
	if want := []string{srv.URL + "/1 true", srv.URL + "/2 false"}; !slices.Equal(done, want) {
		t.Fatalf("Done calls %q, want %q", done, want)
	}
}

func TestNewRequestsBodyGoesWithOneURL(t *testing.T) {
	if _, err := NewRequests("POST", []string{"http://a.test/", "http://b.test/"}, nil, nil, strings.NewReader("x")); err == nil {
		t.Fatal("a body with two URLs was accepted")
	}
	reqs, err := NewRequests("POST", []string{"http://a.test/"}, Header{{"X", "1"}}, nil, strings.NewReader("x=1"))
	if err != nil {
		t.Fatal(err)
	}
	if got := reqs[0].Header.Get("Content-Type"); got != "application/x-www-form-urlencoded" || reqs[0].ContentLength != 3 {
		t.Fatalf("Content-Type %q, length %d", got, reqs[0].ContentLength)
	}
}

func TestTLSFiles(t *testing.T) {
	if _, err := TLSFiles(true, "ca.pem"); err == nil {
		t.Fatal("insecure with a CA file was accepted")
	}
	bad := filepath.Join(t.TempDir(), "bad.pem")
	os.WriteFile(bad, []byte("not a certificate"), 0o600)
	if _, err := TLSFiles(false, bad); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("TLSFiles(bad) = %v", err)
	}
	if cfg, err := TLSFiles(false, ""); cfg != nil || err != nil {
		t.Fatalf("TLSFiles() = %v, %v; want nil, nil", cfg, err)
	}
}
