// Package rfc fetches RFCs from the RFC Editor, caches them, and reads and
// searches the RFC Editor's index: the tutorials' RFC downloader, grown up.
//
// Texts come from {Mirror}/rfc/rfcN.txt and the index from
// {Mirror}/rfc-index.xml. By default they are fetched with net/http, the
// highest-level client there is (the tutorials' lesson: the library that
// already speaks the protocol wins); a [Client] with Wire set fetches them
// with the hand-written httpwire client instead, and the two give the same
// bytes.
//
// With a cache directory, every text is kept and revalidated with
// If-None-Match or If-Modified-Since on the next fetch (a 304 costs one
// small exchange), numbers that do not exist are remembered for a day, and
// the index is fetched once and revalidated when a day old. Offline, only
// the cache answers.
package rfc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/netkit-dev/netkit/endpoint"

	"github.com/netkit-dev/netkit/httpwire"
)

// DefaultMirror is the RFC Editor.
const DefaultMirror = "https://www.rfc-editor.org"

// Client fetches RFCs and the index. The zero value fetches from the RFC
// Editor with net/http and caches nothing.
type Client struct {
	// Mirror is the base URL; "" means DefaultMirror.
	Mirror string
	// HTTP is the net/http client; nil means one with no timeout of its
	// own (the context bounds each fetch).
	HTTP *http.Client
	// Wire, if set, fetches with the hand-written client instead of
	// net/http. It should follow redirects.
	Wire *httpwire.Client
	// CacheDir keeps texts, the index and the numbers known not to exist;
	// "" caches nothing.
	CacheDir string
	// Offline answers from the cache only.
	Offline bool
	// MissingTTL is how long a number that does not exist is remembered;
	// 0 means a day.
	MissingTTL time.Duration
	// IndexTTL is how long the index is used before it is revalidated;
	// 0 means a day.
	IndexTTL time.Duration
	// Now returns the time; nil means time.Now.
	Now func() time.Time
}

// Source says where a document came from.
type Source string

const (
	FromNetwork     Source = "network"     // fetched in full
	FromRevalidated Source = "revalidated" // cached, and the server said it is current (304)
	FromCache       Source = "cache"       // cached, not asked (offline, or fresh enough)
	FromStale       Source = "stale"       // cached; the server could not be asked
)

// Document is a fetched text.
type Document struct {
	Number int
	URL    string
	Text   []byte
	Source Source
	// Warning says why a stale copy was used.
	Warning string
}

// NotFoundError reports an RFC number that the server does not have.
type NotFoundError struct {
	Number int
	URL    string // "" when the number was remembered from an earlier fetch
}

func (e *NotFoundError) Error() string {
	if e.URL == "" {
		return fmt.Sprintf("RFC %d does not exist (remembered from an earlier fetch)", e.Number)
	}
	return fmt.Sprintf("RFC %d does not exist: %s answered 404 Not Found", e.Number, e.URL)
}

// UnreachableError is a mirror that could not be asked: no route, no
// name, no answer. (A mirror that answers with an error status is not
// unreachable.)
type UnreachableError struct {
	Mirror, URL string
	Err         error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("rfc: cannot reach %s: %s", e.Mirror, endpoint.Innermost(e.Err))
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// ErrNotCached is returned offline for what the cache does not hold.
var ErrNotCached = errors.New("not in the cache, and offline")

func (c *Client) mirror() string {
	if c.Mirror == "" {
		return DefaultMirror
	}
	return trimSlash(c.Mirror)
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// TextURL returns where RFC n's text lives.
func (c *Client) TextURL(n int) string { return c.mirror() + "/rfc/rfc" + strconv.Itoa(n) + ".txt" }

// IndexURL returns where the index lives.
func (c *Client) IndexURL() string { return c.mirror() + "/rfc-index.xml" }

// Text returns RFC n's plain text.
func (c *Client) Text(ctx context.Context, n int) (*Document, error) {
	if n <= 0 {
		return nil, fmt.Errorf("RFC number %d: RFC numbers are positive integers", n)
	}
	url := c.TextURL(n)
	name := "rfc" + strconv.Itoa(n) + ".txt"
	if c.knownMissing(n) {
		return nil, &NotFoundError{Number: n}
	}
	doc, err := c.fetch(ctx, url, name, 0)
	if err != nil {
		var nf *notFound
		if errors.As(err, &nf) {
			c.rememberMissing(n)
			return nil, &NotFoundError{Number: n, URL: url}
		}
		if errors.Is(err, ErrNotCached) {
			return nil, fmt.Errorf("RFC %d: %w", n, err)
		}
		return nil, err
	}
	doc.Number = n
	if doc.Source == FromNetwork {
		c.forgetMissing(n)
	}
	return doc, nil
}

// Index returns the parsed index, from the cache when it is fresh.
func (c *Client) Index(ctx context.Context) (*Index, error) {
	ttl := c.IndexTTL
	if ttl == 0 {
		ttl = 24 * time.Hour
	}
	doc, err := c.fetch(ctx, c.IndexURL(), "rfc-index.xml", ttl)
	if err != nil {
		var nf *notFound
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("%s answered 404 Not Found: this mirror has no rfc-index.xml", nf.url)
		}
		if errors.Is(err, ErrNotCached) {
			return nil, fmt.Errorf("the RFC index: %w", err)
		}
		return nil, err
	}
	return ParseIndex(bytes.NewReader(doc.Text))
}

type notFound struct{ url string }

func (e *notFound) Error() string { return e.url + ": 404 Not Found" }

// meta is what the cache keeps beside a file to revalidate it.
type meta struct {
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	Fetched      time.Time `json:"fetched"`
}

// fetch gets url, using and refreshing the cached copy called name. A
// cached copy younger than fresh is used without asking.
func (c *Client) fetch(ctx context.Context, url, name string, fresh time.Duration) (*Document, error) {
	cached, m, haveCache := c.readCache(name)
	doc := &Document{URL: url, Text: cached}
	if haveCache && (c.Offline || fresh > 0 && c.now().Sub(m.Fetched) < fresh) {
		doc.Source = FromCache
		return doc, nil
	}
	if c.Offline {
		return nil, ErrNotCached
	}
	var cond http.Header
	if haveCache {
		cond = http.Header{}
		if m.ETag != "" {
			cond.Set("If-None-Match", m.ETag)
		}
		if m.LastModified != "" {
			cond.Set("If-Modified-Since", m.LastModified)
		}
	}
	status, body, hdr, err := c.get(ctx, url, cond)
	if err != nil {
		if haveCache {
			doc.Source, doc.Warning = FromStale, err.Error()
			return doc, nil
		}
		return nil, &UnreachableError{Mirror: c.mirror(), URL: url, Err: err}
	}
	switch {
	case status == http.StatusNotModified && haveCache:
		doc.Source = FromRevalidated
		m.Fetched = c.now()
		c.writeMeta(name, m)
		return doc, nil
	case status == http.StatusNotFound:
		return nil, &notFound{url}
	case status != http.StatusOK:
		return nil, fmt.Errorf("%s answered %d %s", url, status, http.StatusText(status))
	}
	doc.Text, doc.Source = body, FromNetwork
	c.writeCache(name, body, meta{ETag: hdr.Get("ETag"), LastModified: hdr.Get("Last-Modified"), Fetched: c.now()})
	return doc, nil
}

// get fetches url with the chosen client.
func (c *Client) get(ctx context.Context, url string, cond http.Header) (int, []byte, http.Header, error) {
	if c.Wire != nil {
		req, err := httpwire.NewRequest("GET", url, nil)
		if err != nil {
			return 0, nil, nil, err
		}
		for k, vs := range cond {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
		resp, err := c.Wire.Do(ctx, req)
		if err != nil {
			return 0, nil, nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, nil, nil, fmt.Errorf("%s: %w", url, err)
		}
		hdr := http.Header{}
		for _, f := range resp.Header {
			hdr.Add(f.Name, f.Value)
		}
		return resp.StatusCode, body, hdr, nil
	}
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return 0, nil, nil, err
	}
	for k, vs := range cond {
		req.Header[k] = vs
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s: %w", url, err)
	}
	return resp.StatusCode, body, resp.Header, nil
}

func (c *Client) readCache(name string) ([]byte, meta, bool) {
	var m meta
	if c.CacheDir == "" {
		return nil, m, false
	}
	b, err := os.ReadFile(filepath.Join(c.CacheDir, name))
	if err != nil {
		return nil, m, false
	}
	if mb, err := os.ReadFile(filepath.Join(c.CacheDir, name+".meta")); err == nil {
		_ = json.Unmarshal(mb, &m) // a broken meta file means: revalidate in full
	}
	return b, m, true
}

// writeCache stores a file and its meta, each replaced atomically. A cache
// that cannot be written is not an error: the fetch still succeeded.
func (c *Client) writeCache(name string, b []byte, m meta) {
	if c.CacheDir == "" {
		return
	}
	if err := writeAtomic(filepath.Join(c.CacheDir, name), b); err == nil {
		c.writeMeta(name, m)
	}
}

func (c *Client) writeMeta(name string, m meta) {
	if c.CacheDir == "" {
		return
	}
	mb, _ := json.Marshal(m)
	_ = writeAtomic(filepath.Join(c.CacheDir, name+".meta"), mb)
}

func writeAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// missing maps RFC numbers that answered 404 to when they did.
type missing map[string]time.Time

func (c *Client) readMissing() missing {
	m := missing{}
	if c.CacheDir == "" {
		return m
	}
	if b, err := os.ReadFile(filepath.Join(c.CacheDir, "missing.json")); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	return m
}

func (c *Client) knownMissing(n int) bool {
	ttl := c.MissingTTL
	if ttl == 0 {
		ttl = 24 * time.Hour
	}
	at, ok := c.readMissing()[strconv.Itoa(n)]
	return ok && (c.Offline || c.now().Sub(at) < ttl)
}

func (c *Client) rememberMissing(n int) {
	if c.CacheDir == "" {
		return
	}
	m := c.readMissing()
	m[strconv.Itoa(n)] = c.now()
	c.writeMissing(m)
}

// forgetMissing drops a number that exists after all (it was published
// since, or the mirror changed).
func (c *Client) forgetMissing(n int) {
	m := c.readMissing()
	if _, ok := m[strconv.Itoa(n)]; ok {
		delete(m, strconv.Itoa(n))
		c.writeMissing(m)
	}
}

func (c *Client) writeMissing(m missing) {
	b, _ := json.Marshal(m)
	_ = writeAtomic(filepath.Join(c.CacheDir, "missing.json"), b)
}
