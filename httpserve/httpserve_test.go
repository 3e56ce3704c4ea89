package httpserve_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/httpserve"
	"github.com/netkit-dev/netkit/internal/testutil"
)

// start serves h on a loopback port until the test ends and returns the
// base URL.
func start(t *testing.T, h http.Handler, cfg *tls.Config) string {
	t.Helper()
	ln := testutil.Listen(t, "tcp4")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&httpserve.Server{Handler: h, TLS: cfg}).Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	scheme := "http"
	if cfg != nil {
		scheme = "https"
	}
	return scheme + "://" + ln.Addr().String()
}

type curlResult struct {
	code    int
	headers http.Header
	body    string
}

// curl runs curl with args (the URL among them) and returns the final
// response's status, headers and body.
func curl(t *testing.T, args ...string) curlResult {
	t.Helper()
	bin := testutil.Program(t, "curl")
	dir := t.TempDir()
	hdrs, body := filepath.Join(dir, "h"), filepath.Join(dir, "b")
	full := append([]string{"-sS", "--max-time", "20", "-D", hdrs, "-o", body, "-w", "%{http_code}"}, args...)
	out, err := exec.Command(bin, full...).Output()
	if err != nil {
		t.Fatalf("curl %s: %v", strings.Join(args, " "), err)
	}
	var r curlResult
	if _, err := fmtSscan(string(out), &r.code); err != nil {
		t.Fatalf("curl %s: status %q", strings.Join(args, " "), out)
	}
	hb, _ := os.ReadFile(hdrs)
	r.headers = http.Header{}
	// The last head (after 100 Continue or redirects) is the final one.
	heads := strings.Split(strings.TrimSpace(strings.ReplaceAll(string(hb), "\r\n", "\n")), "\n\n")
	for _, line := range strings.Split(heads[len(heads)-1], "\n")[1:] {
		if k, v, ok := strings.Cut(line, ":"); ok {
			r.headers.Add(k, strings.TrimSpace(v))
		}
	}
	b, _ := os.ReadFile(body)
	r.body = string(b)
	return r
}

func fmtSscan(s string, n *int) (int, error) {
	return len(s), json.Unmarshal([]byte(strings.TrimSpace(s)), n)
}

// tree makes the directory the file tests serve.
func tree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("hello.txt", "hello, world\n")
	write("big.txt", strings.Repeat("the quick brown fox jumps over the lazy dog\n", 200))
	write("data.json", `{"a": 1}`)
	write(".secret", "do not serve")
	write("sub/.hidden/x.txt", "hidden")
	write("sub/inner.txt", "inner")
	write("<b>&.txt", "escaped")
	write("site/index.html", "<h1>index</h1>")
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "passwd"), []byte("root:x:0:0"), 0o644)
	if err := os.Symlink(outside, filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub/inner.txt", filepath.Join(dir, "in-link.txt")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func openFiles(t *testing.T, dir string) *httpserve.Files {
	t.Helper()
	f, err := httpserve.OpenFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestFilesWithCurl(t *testing.T) {
	testutil.CheckLeaks(t)
	base := start(t, openFiles(t, tree(t)), nil)
	big := strings.Repeat("the quick brown fox jumps over the lazy dog\n", 200)

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantBody string            // exact, when set
		wantIn   string            // contained, when set
		wantHdr  map[string]string // exact header values
	}{
		{name: "file", args: []string{base + "/hello.txt"}, wantCode: 200, wantBody: "hello, world\n",
			wantHdr: map[string]string{"Content-Type": "text/plain; charset=utf-8", "Content-Length": "13", "Accept-Ranges": "bytes"}},
		{name: "json type", args: []string{base + "/data.json"}, wantCode: 200, wantHdr: map[string]string{"Content-Type": "application/json"}},
		{name: "range", args: []string{"-r", "7-11", base + "/hello.txt"}, wantCode: 206, wantBody: "world",
			wantHdr: map[string]string{"Content-Range": "bytes 7-11/13"}},
		{name: "range past the end", args: []string{"-r", "100-200", base + "/hello.txt"}, wantCode: 416},
		{name: "gzip", args: []string{"--compressed", base + "/big.txt"}, wantCode: 200, wantBody: big,
			wantHdr: map[string]string{"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}},
		{name: "no gzip for a range", args: []string{"--compressed", "-r", "0-2", base + "/big.txt"}, wantCode: 206, wantBody: "the"},
		{name: "no gzip unasked", args: []string{base + "/big.txt"}, wantCode: 200, wantBody: big, wantHdr: map[string]string{"Content-Length": "8800"}},
		{name: "dotfile", args: []string{base + "/.secret"}, wantCode: 404},
		{name: "dot directory", args: []string{base + "/sub/.hidden/x.txt"}, wantCode: 404},
		{name: "dotdot", args: []string{"--path-as-is", base + "/../etc/passwd"}, wantCode: 400},
		{name: "encoded dotdot", args: []string{"--path-as-is", base + "/sub/%2e%2e/%2e%2e/etc/passwd"}, wantCode: 400},
		{name: "encoded slash", args: []string{base + "/sub%2finner.txt"}, wantCode: 400},
		{name: "symlink out of the root", args: []string{base + "/out/passwd"}, wantCode: 404},
		{name: "symlink inside the root", args: []string{base + "/in-link.txt"}, wantCode: 200, wantBody: "inner"},
		{name: "directory without slash", args: []string{base + "/sub"}, wantCode: 301, wantHdr: map[string]string{"Location": "/sub/"}},
		{name: "index.html", args: []string{base + "/site/"}, wantCode: 200, wantBody: "<h1>index</h1>"},
		{name: "listing escapes names", args: []string{base + "/"}, wantCode: 200, wantIn: `<a href="%3Cb%3E&amp;.txt">&lt;b&gt;&amp;.txt</a>`},
		{name: "put without --upload", args: []string{"-T", "/dev/null", base + "/new.txt"}, wantCode: 405},
		{name: "post", args: []string{"-d", "x", base + "/hello.txt"}, wantCode: 405, wantHdr: map[string]string{"Allow": "GET, HEAD"}},
		{name: "head", args: []string{"-I", base + "/hello.txt"}, wantCode: 200, wantBody: "", wantHdr: map[string]string{"Content-Length": "13"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := curl(t, tt.args...)
			if r.code != tt.wantCode {
				t.Fatalf("status %d, want %d (body %q)", r.code, tt.wantCode, r.body)
			}
			if tt.wantBody != "" && r.body != tt.wantBody {
				t.Errorf("body %q, want %q", r.body, tt.wantBody)
			}
			if tt.wantIn != "" && !strings.Contains(r.body, tt.wantIn) {
				t.Errorf("body %q lacks %q", r.body, tt.wantIn)
			}
			for k, v := range tt.wantHdr {
				if got := r.headers.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if strings.Contains(r.body, "root:x") || strings.Contains(r.body, "do not serve") {
				t.Errorf("served a file it must not: %q", r.body)
			}
		})
	}
}

func TestConditionalRequestsWithCurl(t *testing.T) {
	base := start(t, openFiles(t, tree(t)), nil)
	first := curl(t, base+"/hello.txt")
	etag, lm := first.headers.Get("ETag"), first.headers.Get("Last-Modified")
	if etag == "" || lm == "" {
		t.Fatalf("no ETag (%q) or Last-Modified (%q)", etag, lm)
	}
	if r := curl(t, "-H", "If-None-Match: "+etag, base+"/hello.txt"); r.code != 304 || r.body != "" {
		t.Errorf("If-None-Match with the ETag: %d %q, want 304 and no body", r.code, r.body)
	}
	if r := curl(t, "-H", `If-None-Match: "other"`, base+"/hello.txt"); r.code != 200 {
		t.Errorf("If-None-Match with another ETag: %d, want 200", r.code)
	}
	if r := curl(t, "-H", "If-Modified-Since: "+lm, base+"/hello.txt"); r.code != 304 {
		t.Errorf("If-Modified-Since Last-Modified: %d, want 304", r.code)
	}
	if r := curl(t, "-H", "If-Range: "+etag, "-r", "0-4", base+"/hello.txt"); r.code != 206 || r.body != "hello" {
		t.Errorf("If-Range with the ETag: %d %q, want 206 hello", r.code, r.body)
	}
	if r := curl(t, "-H", `If-Range: "stale"`, "-r", "0-4", base+"/hello.txt"); r.code != 200 || r.body != "hello, world\n" {
		t.Errorf("If-Range with a stale ETag: %d %q, want the whole file", r.code, r.body)
	}
	// The gzipped variant has an ETag of its own.
	gz := curl(t, "--compressed", base+"/big.txt")
	plain := curl(t, base+"/big.txt")
	if gz.headers.Get("ETag") == plain.headers.Get("ETag") {
		t.Errorf("the gzipped and plain bodies share the ETag %s", gz.headers.Get("ETag"))
	}
	if r := curl(t, "--compressed", "-H", "If-None-Match: "+gz.headers.Get("ETag"), base+"/big.txt"); r.code != 304 {
		t.Errorf("If-None-Match with the gzip ETag: %d, want 304", r.code)
	}
}

func TestListingJSON(t *testing.T) {
	base := start(t, openFiles(t, tree(t)), nil)
	r := curl(t, "-H", "Accept: application/json", base+"/sub/")
	var l httpserve.Listing
	if err := json.Unmarshal([]byte(r.body), &l); err != nil {
		t.Fatalf("listing %q: %v", r.body, err)
	}
	if l.Path != "/sub/" || len(l.Entries) != 1 || l.Entries[0].Name != "inner.txt" || l.Entries[0].Size != 5 || l.Entries[0].Type != "file" {
		t.Errorf("listing of /sub/ = %+v, want inner.txt alone (5 bytes; .hidden hidden)", l)
	}
	// A browser's Accept prefers HTML.
	if r := curl(t, "-H", "Accept: text/html,application/xhtml+xml,application/json;q=0.9", base+"/sub/"); !strings.HasPrefix(r.body, "<!doctype html>") {
		t.Errorf("a browser's Accept got %q", r.body)
	}
}

func TestDotfilesOn(t *testing.T) {
	f := openFiles(t, tree(t))
	f.Dotfiles = true
	base := start(t, f, nil)
	if r := curl(t, base+"/.secret"); r.code != 200 || r.body != "do not serve" {
		t.Errorf("with Dotfiles: %d %q", r.code, r.body)
	}
}

func TestUploadWithCurl(t *testing.T) {
	dir := tree(t)
	f := openFiles(t, dir)
	f.Upload, f.MaxUpload = true, 1000
	base := start(t, f, nil)
	src := filepath.Join(t.TempDir(), "src")
	os.WriteFile(src, []byte("uploaded"), 0o644)

	if r := curl(t, "-T", src, base+"/new/deep/file.txt"); r.code != 201 {
		t.Fatalf("PUT a new file: %d %q", r.code, r.body)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "new/deep/file.txt")); string(b) != "uploaded" {
		t.Errorf("stored %q", b)
	}
	if r := curl(t, "-T", src, base+"/hello.txt"); r.code != 204 {
		t.Errorf("PUT over a file: %d, want 204", r.code)
	}
	big := filepath.Join(t.TempDir(), "big")
	os.WriteFile(big, bytes.Repeat([]byte("x"), 1001), 0o644)
	if r := curl(t, "-T", big, base+"/big-upload"); r.code != 413 {
		t.Errorf("PUT over the limit: %d, want 413", r.code)
	}
	// Chunked (no Content-Length) over the limit is refused too.
	if r := curl(t, "-T", big, "-H", "Transfer-Encoding: chunked", base+"/big-upload"); r.code != 413 {
		t.Errorf("chunked PUT over the limit: %d, want 413", r.code)
	}
	if r := curl(t, "-T", src, base+"/.profile"); r.code != 404 {
		t.Errorf("PUT of a dotfile: %d, want 404", r.code)
	}
	if r := curl(t, "-T", src, base+"/out/planted"); r.code != 404 && r.code != 409 {
		t.Errorf("PUT through a symlink out of the root: %d", r.code)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "planted")); err == nil {
		t.Errorf("a PUT wrote through the symlink out of the root")
	}
	if r := curl(t, "-T", src, base+"/sub"); r.code != 409 {
		t.Errorf("PUT over a directory: %d, want 409", r.code)
	}
	// Nothing partial is left behind: no big-upload, no temporary files.
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if strings.Contains(p, ".netkit-upload-") || strings.HasSuffix(p, "big-upload") {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
}

func TestFilesWithPythonURLLib(t *testing.T) {
	py := testutil.Program(t, "python3")
	base := start(t, openFiles(t, tree(t)), nil)
	script := `
import json, sys, urllib.request
base = sys.argv[1]
with urllib.request.urlopen(base + "/hello.txt") as r:
    print(r.status, r.headers["Content-Type"], repr(r.read().decode()))
req = urllib.request.Request(base + "/hello.txt", headers={"Range": "bytes=0-4"})
with urllib.request.urlopen(req) as r:
    print(r.status, r.read().decode())
req = urllib.request.Request(base + "/", headers={"Accept": "application/json"})
with urllib.request.urlopen(req) as r:
    print(sorted(e["name"] for e in json.load(r)["entries"]))
`
	out, err := exec.Command(py, "-c", script, base).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	want := "200 text/plain; charset=utf-8 'hello, world\\n'\n206 hello\n" +
		"['<b>&.txt', 'big.txt', 'data.json', 'hello.txt', 'in-link.txt', 'out', 'site', 'sub']\n"
	if string(out) != want {
		t.Errorf("python urllib:\n%s\nwant:\n%s", out, want)
	}
}

func TestTLSAndHTTP2WithCurl(t *testing.T) {
	cert, err := httpserve.SelfSigned(time.Hour, "127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, cert.PEM, 0o644)
	base := start(t, &httpserve.Echo{}, &tls.Config{Certificates: []tls.Certificate{cert.TLS}})
	bin := testutil.Program(t, "curl")
	for _, tc := range []struct{ flag, want string }{{"--http1.1", "1.1"}, {"--http2", "2"}} {
		out, err := exec.Command(bin, "-sS", tc.flag, "--cacert", ca, "-o", "/dev/null", "-w", "%{http_code} %{http_version}", base+"/get").CombinedOutput()
		if err != nil {
			t.Fatalf("curl %s: %v %s", tc.flag, err, out)
		}
		if string(out) != "200 "+tc.want {
			t.Errorf("curl %s: %q, want 200 %s", tc.flag, out, tc.want)
		}
	}
	// Without the certificate, curl refuses the server.
	if err := exec.Command(bin, "-sS", "-o", "/dev/null", base+"/get").Run(); err == nil {
		t.Errorf("curl trusted a certificate it was not given")
	}
}

func TestEchoWithCurl(t *testing.T) {
	testutil.CheckLeaks(t)
	base := start(t, &httpserve.Echo{}, nil)
	var echo httpserve.Request
	r := curl(t, "-H", "X-Test: 1", "-H", "Content-Type: application/json", "-d", `{"n": 12345678901234567890}`, base+"/anything/x?a=1&a=2&b=3")
	if err := json.Unmarshal([]byte(r.body), &echo); err != nil {
		t.Fatal(err)
	}
	if echo.Method != "POST" || echo.URL != base+"/anything/x?a=1&a=2&b=3" || echo.Headers["X-Test"] != "1" || echo.Origin != "127.0.0.1" {
		t.Errorf("echo = %+v", echo)
	}
	if !strings.Contains(r.body, `"n": 12345678901234567890`) {
		t.Errorf("a large number lost its precision: %s", r.body)
	}
	if a, ok := echo.Args["a"].([]any); !ok || len(a) != 2 || echo.Args["b"] != "3" {
		t.Errorf("args = %v, want a twice and b once", echo.Args)
	}
	r = curl(t, "-d", "x=1&y=%20z", base+"/post")
	json.Unmarshal([]byte(r.body), &echo)
	if echo.Form["x"] != "1" || echo.Form["y"] != " z" {
		t.Errorf("form = %v", echo.Form)
	}
	if r := curl(t, "-F", "f=@/dev/null;filename=a.bin", "-F", "k=v", base+"/anything"); !strings.Contains(r.body, `"k": "v"`) || !strings.Contains(r.body, `"f": ""`) {
		t.Errorf("multipart: %s", r.body)
	}

	checks := []struct {
		name     string
		args     []string
		wantCode int
		wantIn   string
	}{
		{"status", []string{base + "/status/418"}, 418, ""},
		{"bad status", []string{base + "/status/99"}, 400, "200 to 599"},
		{"redirects followed", []string{"-L", base + "/redirect/3"}, 200, `"url": "` + base + `/get"`},
		{"absolute redirect", []string{base + "/absolute-redirect/1"}, 302, ""},
		{"basic auth right", []string{"-u", "ann:pw", base + "/basic-auth/ann/pw"}, 200, `"authenticated": true`},
		{"basic auth wrong", []string{"-u", "ann:no", base + "/basic-auth/ann/pw"}, 401, ""},
		{"bearer", []string{"-H", "Authorization: Bearer tok", base + "/bearer"}, 200, `"token": "tok"`},
		{"gzip", []string{"--compressed", base + "/gzip"}, 200, `"gzipped": true`},
		{"bytes", []string{base + "/bytes/3000?seed=1"}, 200, ""},
		{"delay", []string{base + "/delay/0.1"}, 200, `"method": "GET"`},
		{"delay too long", []string{base + "/delay/11"}, 400, "0 to 10"},
		{"wrong method", []string{"-X", "DELETE", base + "/get"}, 405, ""},
		{"response headers", []string{base + "/response-headers?X-Y=z"}, 200, `"X-Y": "z"`},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			r := curl(t, c.args...)
			if r.code != c.wantCode || !strings.Contains(r.body, c.wantIn) {
				t.Errorf("%d %q, want %d with %q", r.code, r.body, c.wantCode, c.wantIn)
			}
		})
	}
	// Cookies set, sent back from curl's jar, deleted.
	jar := filepath.Join(t.TempDir(), "jar")
	if r := curl(t, "-L", "-c", jar, "-b", jar, base+"/cookies/set?flavour=oat"); !strings.Contains(r.body, `"flavour": "oat"`) {
		t.Errorf("cookies after set: %s", r.body)
	}
	if r := curl(t, "-L", "-c", jar, "-b", jar, base+"/cookies/delete?flavour"); strings.Contains(r.body, "flavour") {
		t.Errorf("cookies after delete: %s", r.body)
	}
	// Random bytes: as many as asked, the same for the same seed.
	a, b := curl(t, base+"/bytes/5000?seed=7"), curl(t, base+"/stream-bytes/5000?seed=7&chunk_size=1000")
	if len(a.body) != 5000 || a.body != b.body || b.headers.Get("Transfer-Encoding") != "chunked" {
		t.Errorf("bytes: %d and %d bytes, equal %v, stream framing %q", len(a.body), len(b.body), a.body == b.body, b.headers.Get("Transfer-Encoding"))
	}
	// Pagination: the Link headers lead through every page.
	next, seen := base+"/items?per_page=7&total=20", 0
	for pages := 0; next != "" && pages < 10; pages++ {
		r := curl(t, next)
		var items []map[string]any
		json.Unmarshal([]byte(r.body), &items)
		seen += len(items)
		next = ""
		for l := range strings.SplitSeq(r.headers.Get("Link"), ", ") {
			if u, ok := strings.CutSuffix(l, `>; rel="next"`); ok {
				next = strings.TrimPrefix(u, "<")
			}
		}
	}
	if seen != 20 {
		t.Errorf("the pages held %d items, want 20", seen)
	}
}

func TestAccessLog(t *testing.T) {
	var clf, js testutil.SyncBuffer
	files := openFiles(t, tree(t))
	base := start(t, httpserve.AccessLog(httpserve.AccessLog(files, &clf, httpserve.LogCommon), &js, httpserve.LogJSON), nil)
	curl(t, "-u", "ann:pw", "-A", "tester", base+"/hello.txt")
	curl(t, base+"/nothing")
	lines := strings.Split(strings.TrimSpace(clf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("CLF log: %q", clf.String())
	}
	if !strings.HasPrefix(lines[0], "127.0.0.1 - ann [") || !strings.HasSuffix(lines[0], `] "GET /hello.txt HTTP/1.1" 200 13`) {
		t.Errorf("CLF line %q", lines[0])
	}
	if !strings.HasSuffix(lines[1], `] "GET /nothing HTTP/1.1" 404 19`) {
		t.Errorf("CLF line %q", lines[1])
	}
	var e httpserve.LogEntry
	if err := json.Unmarshal([]byte(strings.SplitN(js.String(), "\n", 2)[0]), &e); err != nil {
		t.Fatal(err)
	}
	if e.Status != 200 || e.Bytes != 13 || e.URI != "/hello.txt" || e.Agent != "tester" {
		t.Errorf("JSON entry %+v", e)
	}
}

// wrk's keep-alive connections, many at once, get whole answers: no
// errors, no non-2xx statuses, and the access log counts every request.
func TestFilesUnderWrk(t *testing.T) {
	wrk := testutil.Program(t, "wrk")
	var log countingWriter
	base := start(t, httpserve.AccessLog(openFiles(t, tree(t)), &log, httpserve.LogCommon), nil)
	out, err := exec.Command(wrk, "-t2", "-c16", "-d1s", base+"/big.txt").CombinedOutput()
	if err != nil {
		t.Fatalf("wrk: %v\n%s", err, out)
	}
	s := string(out)
	var n int
	if i := strings.Index(s, " requests in "); i > 0 {
		fields := strings.Fields(s[:i])
		n, _ = strconv.Atoi(fields[len(fields)-1])
	}
	if n < 100 || strings.Contains(s, "Non-2xx") || strings.Contains(s, "Socket errors") {
		t.Errorf("wrk:\n%s", s)
	}
	// A line is written just after its response goes out: wait for the
	// last ones.
	for deadline := time.Now().Add(2 * time.Second); log.lines() < n && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if got := log.lines(); got < n {
		t.Errorf("the log has %d lines for %d requests", got, n)
	}
}

type countingWriter struct {
	mu sync.Mutex
	n  int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.n += bytes.Count(p, []byte("\n"))
	c.mu.Unlock()
	return len(p), nil
}

func (c *countingWriter) lines() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func TestNoSendfile(t *testing.T) {
	f := openFiles(t, tree(t))
	f.NoSendfile = true
	base := start(t, f, nil)
	big := strings.Repeat("the quick brown fox jumps over the lazy dog\n", 200)
	if r := curl(t, base+"/big.txt"); r.code != 200 || r.body != big {
		t.Errorf("whole file: %d, %d bytes", r.code, len(r.body))
	}
	if r := curl(t, "-r", "4-8", base+"/big.txt"); r.code != 206 || r.body != "quick" {
		t.Errorf("range: %d %q", r.code, r.body)
	}
	if r := curl(t, "--compressed", base+"/big.txt"); r.body != big || r.headers.Get("Content-Encoding") != "gzip" {
		t.Errorf("gzip: %d bytes, %q", len(r.body), r.headers.Get("Content-Encoding"))
	}
}
