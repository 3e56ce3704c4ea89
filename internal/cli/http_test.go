package cli

import (
	"compress/gzip"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netkit-dev/netkit/internal/testutil"
)

// httpFixture serves a few paths that the http tests share.
func httpFixture(t *testing.T) *httptest.Server {
	t.Helper()
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			io.WriteString(w, big) // chunked: no Content-Length
		case "/text":
			w.Header().Set("Content-Length", "12")
			io.WriteString(w, "hello world\n")
		case "/echo":
			b, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%s %s %q %q", r.Method, r.Header.Get("Content-Type"), b, r.Header.Get("X-Test"))
		case "/redirect":
			http.Redirect(w, r, "/text", http.StatusFound)
		case "/gzip":
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			io.WriteString(zw, big)
			zw.Close()
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPGetBodyMatchesCurl(t *testing.T) {
	srv := httpFixture(t)
	for _, path := range []string{"/big", "/text", "/gzip"} {
		out, errOut, code := run(t, "http", "get", srv.URL+path)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", path, code, errOut)
		}
		curl := testutil.Program(t, "curl")
		want, err := exec.Command(curl, "-sS", srv.URL+path).Output()
		if err != nil {
			t.Fatal(err)
		}
		if out != string(want) {
			t.Errorf("%s: %d bytes, curl got %d", path, len(out), len(want))
		}
	}
	// --compressed decodes as curl --compressed does.
	out, _, _ := run(t, "http", "get", "--compressed", srv.URL+"/gzip")
	want, _ := exec.Command("curl", "-sS", "--compressed", srv.URL+"/gzip").Output()
	if out != string(want) || len(out) != 1<<20 {
		t.Errorf("--compressed: %d bytes, curl %d", len(out), len(want))
	}
}

func TestHTTPSeveralURLsOneConnection(t *testing.T) {
	srv := httpFixture(t)
	out, errOut, code := run(t, "--json", "http", "get", srv.URL+"/text", srv.URL+"/big", srv.URL+"/nope")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res httpResults
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Responses) != 3 {
		t.Fatalf("%d responses", len(res.Responses))
	}
	for i, r := range res.Responses {
		if r.Reused != (i > 0) {
			t.Errorf("response %d reused=%v", i, r.Reused)
		}
	}
	if r := res.Responses[1]; r.BodyBytes != 1<<20 || r.Framing != "chunked" {
		t.Errorf("big: %+v", r)
	}
	if r := res.Responses[2]; r.Status != 404 {
		t.Errorf("nope: status %d", r.Status)
	}
	// --fail turns the 404 into exit 1.
	if _, errOut, code := run(t, "http", "get", "--fail", srv.URL+"/nope"); code != 1 || !strings.Contains(errOut, "404") {
		t.Errorf("--fail: exit %d, %q", code, errOut)
	}
}

func TestHTTPOutputFiles(t *testing.T) {
	srv := httpFixture(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	out, errOut, code := run(t, "http", "get", "-o", a, "-o", b, srv.URL+"/text", srv.URL+"/big", srv.URL+"/text")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got, _ := os.ReadFile(a); string(got) != "hello world\n" {
		t.Errorf("a = %q", got)
	}
	if fi, err := os.Stat(b); err != nil || fi.Size() != 1<<20 {
		t.Errorf("b: %v %v", fi, err)
	}
	if out != "hello world\n" {
		t.Errorf("the URL without -o went to stdout as %q", out)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("left behind: %v", ents)
	}
	// A full disk is the file's failure, not the network's.
	if _, err := os.Stat("/dev/full"); err == nil {
		_, errOut, code := run(t, "http", "get", "-o", "/dev/full", srv.URL+"/big")
		if code != 1 || !strings.Contains(errOut, "writing the body") || !strings.Contains(errOut, "no space left") {
			t.Errorf("-o /dev/full: exit %d, %q", code, errOut)
		}
	}
	// Special files are written in place, never replaced.
	if _, errOut, code := run(t, "http", "get", "-o", os.DevNull, srv.URL+"/big"); code != 0 {
		t.Fatalf("-o /dev/null: exit %d %s", code, errOut)
	}
	if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode().IsRegular() {
		t.Fatalf("/dev/null was replaced: %v %v", fi, err)
	}
	if out, _, _ := run(t, "http", "get", "-o", "-", srv.URL+"/text"); out != "hello world\n" {
		t.Errorf("-o -: %q", out)
	}
	if _, _, code := run(t, "http", "get", "-o", a, "-o", b, srv.URL); code != 2 {
		t.Errorf("two -o for one URL: exit %d", code)
	}
}

func TestHTTPRequestBodyAndHeaders(t *testing.T) {
	srv := httpFixture(t)
	out, errOut, code := run(t, "http", "request", "POST", srv.URL+"/echo", "-d", "a=1", "-d", "b=2", "-H", "X-Test: yes")
	if code != 0 || out != `POST application/x-www-form-urlencoded "a=1&b=2" "yes"` {
		t.Fatalf("exit %d out %q err %q", code, out, errOut)
	}
	f := filepath.Join(t.TempDir(), "body")
	os.WriteFile(f, []byte("\x00binary\r\n"), 0o600)
	out, _, _ = run(t, "http", "request", "PUT", srv.URL+"/echo", "--data-binary", "@"+f, "-H", "Content-Type: application/octet-stream")
	if out != `PUT application/octet-stream "\x00binary\r\n" ""` {
		t.Errorf("--data-binary @file: %q", out)
	}
}

func TestHTTPWire(t *testing.T) {
	srv := httpFixture(t)
	_, errOut, code := run(t, "http", "get", "--wire", "--timing", "-A", "probe/1", srv.URL+"/text", srv.URL+"/text")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, want := range []string{
		"* connected to " + host + "\n> GET /text HTTP/1.1\n> Host: " + host + "\n> User-Agent: probe/1\n> Accept: */*\n> \n< HTTP/1.1 200 OK\n",
		"< Content-Length: 12\n",
		"* reusing the connection to " + host,
		"timing of " + srv.URL + "/text (reused connection):",
		"first byte",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("--wire output lacks %q:\n%s", want, errOut)
		}
	}
}

func TestHTTPRedirectAndTLS(t *testing.T) {
	srv := httpFixture(t)
	if out, _, code := run(t, "http", "get", "-L", srv.URL+"/redirect"); code != 0 || out != "hello world\n" {
		t.Errorf("-L: exit %d %q", code, out)
	}
	if out, _, code := run(t, "http", "get", "-i", srv.URL+"/redirect"); code != 0 || !strings.HasPrefix(out, "HTTP/1.1 302 Found\r\n") || !strings.Contains(out, "\r\nLocation: /text\r\n") {
		t.Errorf("without -L: exit %d %q", code, out)
	}
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secure") }))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshake below is expected
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	if _, errOut, code := run(t, "http", "get", tlsSrv.URL); code != 1 || !strings.Contains(errOut, "TLS handshake with") {
		t.Errorf("unknown CA: exit %d %q", code, errOut)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw}), 0o600)
	if out, errOut, code := run(t, "http", "get", "--cacert", ca, tlsSrv.URL); code != 0 || out != "secure" {
		t.Errorf("--cacert: exit %d %q %q", code, out, errOut)
	}
	if out, _, code := run(t, "http", "get", "-k", tlsSrv.URL); code != 0 || out != "secure" {
		t.Errorf("-k: exit %d %q", code, out)
	}
}

func TestHTTPErrors(t *testing.T) {
	l := testutil.Listen(t, "tcp4")
	addr := l.Addr().String()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			c.Read(buf)
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello")
			c.Close()
		}
	}()
	closed := testutil.Listen(t, "tcp4")
	closedAddr := closed.Addr().String()
	closed.Close()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"http", "get", "http://" + addr + "/"}, 1, "conflicting Content-Length values 5 and 7"},
		{[]string{"http", "get", "http://" + closedAddr + "/"}, 1, "connecting to " + closedAddr},
		{[]string{"http", "get", "http://no-such-host.invalid/"}, 1, "resolving no-such-host.invalid:80"},
		{[]string{"http", "get", "ftp://x/"}, 2, `scheme "ftp" is not http or https`},
		{[]string{"http", "get", "x.example/"}, 2, "it needs a scheme"},
		{[]string{"http", "get", "-H", "X-A: b\rc", "http://" + addr + "/"}, 2, "invalid -H"},
		{[]string{"http", "get", "-H", "novalue", "http://" + addr + "/"}, 2, "a header is 'Name: value'"},
		{[]string{"http", "request", "GE T", "http://" + addr + "/"}, 2, "invalid method"},
		{[]string{"http", "request", "POST"}, 2, "a METHOD and at least one URL"},
		{[]string{"http", "get"}, 2, "at least one URL"},
	} {
		_, errOut, code := run(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

func TestServices(t *testing.T) {
	out, _, code := run(t, "services", "http", "443")
	if code != 0 || !strings.Contains(out, "  80  tcp    http ") || !strings.Contains(out, " 443  tcp    https") {
		t.Errorf("exit %d\n%s", code, out)
	}
	out, _, code = run(t, "--json", "services", "--top", "3")
	var res struct {
		Services []struct {
			Port uint16 `json:"port"`
		} `json:"services"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || len(res.Services) != 3 || res.Services[2].Port != 22 {
		t.Errorf("--top 3: %v %s", err, out)
	}
	if _, errOut, code := run(t, "services", "no-such-service"); code != 1 || !strings.Contains(errOut, `no service "no-such-service"`) {
		t.Errorf("unknown: exit %d %q", code, errOut)
	}
	if _, _, code := run(t, "services", "0"); code != 2 {
		t.Errorf("port 0: exit %d", code)
	}
	if _, _, code := run(t, "services", "--proto", "sctp", "x"); code != 2 {
		t.Errorf("--proto sctp: exit %d", code)
	}
}
