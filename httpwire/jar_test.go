package httpwire_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/httpserve"
	"github.com/netkit-dev/netkit/httpwire"
	"github.com/netkit-dev/netkit/internal/testutil"
)

func names(cs []*http.Cookie) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.Name+"="+c.Value)
	}
	return strings.Join(s, "; ")
}

func TestJarRules(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	j := &httpwire.Jar{Now: func() time.Time { return now }}
	set := func(rawURL string, lines ...string) {
		u, _ := url.Parse(rawURL)
		var cs []*http.Cookie
		for _, l := range lines {
			c, err := http.ParseSetCookie(l)
			if err != nil {
				t.Fatal(err)
			}
			cs = append(cs, c)
		}
		j.SetCookies(u, cs)
	}
	get := func(rawURL string) string {
		u, _ := url.Parse(rawURL)
		return names(j.Cookies(u))
	}
	set("http://www.example.org/a/b", "host=1", "dom=2; Domain=example.org; Path=/", "deep=3; Path=/a/b/c",
		"sec=4; Secure", "tld=5; Domain=org", "other=6; Domain=example.com", "gone=7; Max-Age=0", "old=8; Expires=Thu, 01 Jan 2015 00:00:00 GMT")
	tests := []struct{ url, want string }{
		{"http://www.example.org/a/x", "host=1; dom=2"},             // default path /a
		{"http://www.example.org/", "dom=2"},                        // host=1 has path /a
		{"http://www.example.org/a/b/c/d", "deep=3; host=1; dom=2"}, // longer paths first
		{"https://www.example.org/a", "host=1; sec=4; dom=2"},
		{"http://sub.example.org/a", "dom=2"},  // host-only stays on www
		{"http://www.example.org/ab", "dom=2"}, // /a does not match /ab
		{"http://example.com/", ""},            // another domain
	}
	for _, tt := range tests {
		if got := get(tt.url); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.url, got, tt.want)
		}
	}
	// Max-Age=-1 deletes; a later expiry passes.
	set("http://www.example.org/a/", "host=; Max-Age=-1")
	now = now.Add(time.Hour)
	if got := get("https://www.example.org/a/b/c"); got != "deep=3; sec=4; dom=2" {
		t.Errorf("after a delete: %q", got)
	}
}

func TestReadNetscapeErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a\tb\tc", "line 1: 3 tab-separated fields"},
		{"h\tFALSE\t/\tFALSE\tsoon\tn\tv", `invalid expiry "soon"`},
		{"h\tMAYBE\t/\tFALSE\t0\tn\tv", "TRUE or FALSE"},
		{"# comment\n\nh\tFALSE\tnopath\tFALSE\t0\tn\tv", "line 3: a cookie needs"},
	} {
		err := (&httpwire.Jar{}).ReadNetscape(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.want)
		}
	}
}

// curl's cookie file, written from our test API, read by our client; and
// our session round trip.
func TestCookiesFromCurlAndSessions(t *testing.T) {
	curl := testutil.Program(t, "curl")
	ln := testutil.Listen(t, "tcp4")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- (&httpserve.Server{Handler: &httpserve.Echo{}}).Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	base := "http://" + ln.Addr().String()

	file := filepath.Join(t.TempDir(), "cookies.txt")
	if out, err := exec.Command(curl, "-sS", "-o", "/dev/null", "-c", file, "-L", base+"/cookies/set?flavour=oat&size=large").CombinedOutput(); err != nil {
		t.Fatalf("curl: %v %s", err, out)
	}
	f, _ := os.Open(file)
	jar := &httpwire.Jar{}
	if err := jar.ReadNetscape(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	c := &httpwire.Client{Jar: jar, FollowRedirects: true}
	defer c.CloseIdle()
	cookies := func() map[string]string {
		resp, err := c.Get(ctx, base+"/cookies")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v struct{ Cookies map[string]string }
		b, _ := io.ReadAll(resp.Body)
		json.Unmarshal(b, &v)
		return v.Cookies
	}
	if got := cookies(); got["flavour"] != "oat" || got["size"] != "large" || len(got) != 2 {
		t.Errorf("cookies from curl's file: %v", got)
	}
	// Our client follows set and delete redirects, keeping the jar.
	resp, err := c.Get(ctx, base+"/cookies/delete?size")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if got := cookies(); len(got) != 1 || got["flavour"] != "oat" {
		t.Errorf("after delete: %v", got)
	}
	// A session saved and loaded keeps the cookies and headers, 0600.
	path := filepath.Join(t.TempDir(), "sessions", "s.json")
	s := &httpwire.Session{Cookies: jar.All()}
	s.Remember(httpwire.Header{{Name: "X-Token", Value: "t"}, {Name: "Content-Type", Value: "x/y"}})
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("session mode %v", fi.Mode())
	}
	back, err := httpwire.LoadSession(path)
	if err != nil || len(back.Cookies) != 1 || len(back.Headers) != 1 || back.Headers[0].Name != "X-Token" {
		t.Errorf("loaded %+v, %v", back, err)
	}
	if _, err := httpwire.SessionPath("../x", "/d"); err != nil {
		t.Errorf("a path with a slash is taken as a path: %v", err)
	}
	if _, err := httpwire.SessionPath(".hidden", "/d"); err == nil {
		t.Errorf("a dot name accepted")
	}
}
