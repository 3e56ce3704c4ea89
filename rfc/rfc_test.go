package rfc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/httpwire"
)

// mirror serves testdata/mirror with strong ETags and answers
// If-None-Match with 304. It counts the requests per path.
type mirror struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
	cond map[string]int // requests that carried If-None-Match
}

func newMirror(t *testing.T) *mirror {
	m := &mirror{hits: map[string]int{}, cond: map[string]int{}}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.hits[r.URL.Path]++
		if r.Header.Get("If-None-Match") != "" {
			m.cond[r.URL.Path]++
		}
		m.mu.Unlock()
		b, err := os.ReadFile(filepath.Join("testdata/mirror", filepath.FromSlash(r.URL.Path)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		etag := fmt.Sprintf(`"%x"`, sha256.Sum256(b))
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(m.Close)
	return m
}

func (m *mirror) count(path string) (hits, cond int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hits[path], m.cond[path]
}

func TestNetHTTPAndWireGiveTheSameBytes(t *testing.T) {
	m := newMirror(t)
	want, _ := os.ReadFile("testdata/mirror/rfc/rfc791.txt")
	plain := &Client{Mirror: m.URL}
	wire := &Client{Mirror: m.URL, Wire: &httpwire.Client{FollowRedirects: true}}
	defer wire.Wire.CloseIdle()
	a, err := plain.Text(context.Background(), 791)
	if err != nil {
		t.Fatal(err)
	}
	b, err := wire.Text(context.Background(), 791)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Text, want) || !bytes.Equal(b.Text, want) {
		t.Errorf("net/http %q\nhttpwire %q\nfile %q", a.Text, b.Text, want)
	}
}

func TestCacheRevalidatesAndGoesOffline(t *testing.T) {
	m := newMirror(t)
	dir := t.TempDir()
	for _, wire := range []bool{false, true} {
		c := &Client{Mirror: m.URL, CacheDir: filepath.Join(dir, fmt.Sprint(wire))}
		if wire {
			c.Wire = &httpwire.Client{}
			defer c.Wire.CloseIdle()
		}
		first, err := c.Text(context.Background(), 793)
		if err != nil || first.Source != FromNetwork {
			t.Fatalf("first fetch: %v %v", first, err)
		}
		second, err := c.Text(context.Background(), 793)
		if err != nil || second.Source != FromRevalidated || !bytes.Equal(second.Text, first.Text) {
			t.Fatalf("second fetch: source %v err %v", second.Source, err)
		}
		c.Offline = true
		third, err := c.Text(context.Background(), 793)
		if err != nil || third.Source != FromCache || !bytes.Equal(third.Text, first.Text) {
			t.Fatalf("offline: %v %v", third, err)
		}
		if _, err := c.Text(context.Background(), 1149); !errors.Is(err, ErrNotCached) {
			t.Errorf("offline, uncached: %v", err)
		}
	}
	if hits, cond := m.count("/rfc/rfc793.txt"); hits != 4 || cond != 2 {
		t.Errorf("mirror saw %d requests, %d conditional; want 4 and 2", hits, cond)
	}
}

func TestMissingNumbersAreRemembered(t *testing.T) {
	m := newMirror(t)
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	c := &Client{Mirror: m.URL, CacheDir: t.TempDir(), Now: func() time.Time { return now }}
	var nf *NotFoundError
	if _, err := c.Text(context.Background(), 99999); !errors.As(err, &nf) || nf.URL == "" {
		t.Fatalf("first: %v", err)
	}
	if _, err := c.Text(context.Background(), 99999); !errors.As(err, &nf) || nf.URL != "" {
		t.Fatalf("second: %v, want it remembered", err)
	}
	if hits, _ := m.count("/rfc/rfc99999.txt"); hits != 1 {
		t.Errorf("%d requests for a known-missing number, want 1", hits)
	}
	now = now.Add(25 * time.Hour)
	c.Text(context.Background(), 99999)
	if hits, _ := m.count("/rfc/rfc99999.txt"); hits != 2 {
		t.Errorf("after a day: %d requests, want 2 (asked again)", hits)
	}
	if _, err := c.Text(context.Background(), 0); err == nil {
		t.Error("RFC 0 was accepted")
	}
}

func TestStaleCopyWhenTheMirrorIsDown(t *testing.T) {
	m := newMirror(t)
	c := &Client{Mirror: m.URL, CacheDir: t.TempDir()}
	if _, err := c.Text(context.Background(), 791); err != nil {
		t.Fatal(err)
	}
	m.Close()
	doc, err := c.Text(context.Background(), 791)
	if err != nil || doc.Source != FromStale || doc.Warning == "" {
		t.Fatalf("%+v %v", doc, err)
	}
	if _, err := c.Text(context.Background(), 760); err == nil || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("uncached with the mirror down: %v, want an error naming the host", err)
	}
}

func TestIndex(t *testing.T) {
	m := newMirror(t)
	c := &Client{Mirror: m.URL, CacheDir: t.TempDir()}
	ix, err := c.Index(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ix.Len() != 5 || !ix.NotIssued[1849] {
		t.Fatalf("%d entries, not issued %v", ix.Len(), ix.NotIssued)
	}
	e, ok := ix.Lookup(791)
	if !ok {
		t.Fatal("no RFC 791")
	}
	if e.Title != "Internet Protocol" || e.Date() != "September 1981" || e.Status != "INTERNET STANDARD" ||
		strings.Join(e.Obsoletes, ",") != "RFC 760" || strings.Join(e.UpdatedBy, ",") != "RFC 1349,RFC 2474" ||
		strings.Join(e.IsAlso, ",") != "STD 5" || e.Pages != 51 || len(e.Authors) != 1 || e.Obsolete() {
		t.Errorf("791 = %+v", e)
	}
	if e, _ := ix.Lookup(9293); e.Authors[0] != "W. Eddy" {
		t.Errorf("9293 authors %q", e.Authors)
	}
	if e, _ := ix.Lookup(760); !e.Obsolete() || e.ObsoletedBy[0] != "RFC 791" {
		t.Errorf("760 = %+v", e)
	}
	// Fetched once: the second call reads the cache.
	if _, err := c.Index(context.Background()); err != nil {
		t.Fatal(err)
	}
	if hits, _ := m.count("/rfc-index.xml"); hits != 1 {
		t.Errorf("index fetched %d times", hits)
	}
}

func TestSearch(t *testing.T) {
	f, _ := os.Open("testdata/mirror/rfc-index.xml")
	defer f.Close()
	ix, err := ParseIndex(f)
	if err != nil {
		t.Fatal(err)
	}
	numbers := func(rs []Result) (out []int) {
		for _, r := range rs {
			out = append(out, r.Number)
		}
		return out
	}
	for _, tc := range []struct {
		words   []string
		exclude bool
		want    string
	}{
		{[]string{"tcp"}, false, "[9293 793]"},
		{[]string{"TCP"}, true, "[9293]"},
		{[]string{"transmission", "control"}, false, "[9293 793]"},
		{[]string{"datagrams"}, false, "[1149 791]"},
		{[]string{"ip", "datagrams", "birds"}, false, "[1149]"},
		{[]string{"nothing-matches-this"}, false, "[]"},
		{[]string{"  "}, false, "[]"},
	} {
		if got := fmt.Sprint(numbers(ix.Search(tc.words, tc.exclude))); got != tc.want {
			t.Errorf("Search(%q, %v) = %s, want %s", tc.words, tc.exclude, got, tc.want)
		}
	}
}

func TestParseIndexErrors(t *testing.T) {
	for _, s := range []string{
		"<html><body>not an index</body></html>",
		`<rfc-index><rfc-entry><doc-id>XYZ</doc-id></rfc-entry></rfc-index>`,
		`<rfc-index><rfc-entry><doc-id>RFC1</doc-id>`,
	} {
		if _, err := ParseIndex(strings.NewReader(s)); err == nil {
			t.Errorf("ParseIndex(%q) accepted it", s)
		}
	}
}

func FuzzParseIndex(f *testing.F) {
	b, _ := os.ReadFile("testdata/mirror/rfc-index.xml")
	f.Add(b)
	f.Add([]byte(`<rfc-index><rfc-entry><doc-id>RFC7</doc-id><obsoleted-by><doc-id>RFC0</doc-id></obsoleted-by></rfc-entry></rfc-index>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := ParseIndex(bytes.NewReader(data))
		if err != nil {
			return
		}
		for n := range ix.entries {
			if n <= 0 {
				t.Fatalf("entry numbered %d", n)
			}
		}
		ix.Search([]string{"tcp", "ip"}, true)
	})
}
