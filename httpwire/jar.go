package httpwire

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Cookie is one stored cookie, in the form a [Jar] saves.
type Cookie struct {
	Name     string    `json:"name"`
	Value    string    `json:"value"`
	Domain   string    `json:"domain"`    // lower case, no leading dot
	HostOnly bool      `json:"host_only"` // sent to Domain only, not its subdomains
	Path     string    `json:"path"`
	Expires  time.Time `json:"expires,omitzero"` // zero: a session cookie
	Secure   bool      `json:"secure,omitempty"`
	HTTPOnly bool      `json:"http_only,omitempty"`
}

// Jar keeps cookies as RFC 6265 has a user agent keep them: host-only or
// domain cookies, path matching, Secure cookies only over https, expiry by
// Max-Age or Expires. It knows no public suffix list, so it refuses a
// Domain attribute of a single label (com, localhost) rather than guess.
// It implements http.CookieJar, and can be saved and loaded (a session)
// or read from a Netscape cookie file (curl -c, wget --save-cookies).
type Jar struct {
	mu      sync.Mutex
	cookies []Cookie
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var _ http.CookieJar = (*Jar)(nil)

func (j *Jar) now() time.Time {
	if j.Now != nil {
		return j.Now()
	}
	return time.Now()
}

// SetCookies stores the cookies a response from u set.
func (j *Jar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	host := canonicalHost(u.Host)
	now := j.now()
	for _, hc := range cookies {
		c := Cookie{Name: hc.Name, Value: hc.Value, Secure: hc.Secure, HTTPOnly: hc.HttpOnly, Path: hc.Path}
		if d := strings.ToLower(strings.TrimPrefix(hc.Domain, ".")); d != "" {
			if !domainMatch(host, d) || !strings.Contains(d, ".") && net.ParseIP(d) == nil {
				continue // a domain the host may not set (RFC 6265 5.3 step 6)
			}
			c.Domain = d
		} else {
			c.Domain, c.HostOnly = host, true
		}
		if c.Path == "" || c.Path[0] != '/' {
			c.Path = defaultPath(u.Path)
		}
		switch {
		case hc.MaxAge < 0:
			c.Expires = now.Add(-time.Second)
		case hc.MaxAge > 0:
			c.Expires = now.Add(time.Duration(hc.MaxAge) * time.Second)
		case !hc.Expires.IsZero():
			c.Expires = hc.Expires
		}
		j.put(c, now)
	}
}

// put replaces the cookie of the same name, domain and path, or adds c;
// an expired c only removes.
func (j *Jar) put(c Cookie, now time.Time) {
	j.cookies = slices.DeleteFunc(j.cookies, func(o Cookie) bool {
		return o.Name == c.Name && o.Domain == c.Domain && o.Path == c.Path
	})
	if c.Expires.IsZero() || c.Expires.After(now) {
		j.cookies = append(j.cookies, c)
	}
}

// Cookies are the cookies to send to u, longer paths first.
func (j *Jar) Cookies(u *url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	host, now := canonicalHost(u.Host), j.now()
	path := u.Path
	if path == "" {
		path = "/"
	}
	var match []Cookie
	for _, c := range j.cookies {
		switch {
		case !c.Expires.IsZero() && !c.Expires.After(now):
		case c.HostOnly && host != c.Domain, !c.HostOnly && !domainMatch(host, c.Domain):
		case !pathMatch(path, c.Path):
		case c.Secure && u.Scheme != "https":
		default:
			match = append(match, c)
		}
	}
	slices.SortStableFunc(match, func(a, b Cookie) int { return len(b.Path) - len(a.Path) })
	out := make([]*http.Cookie, len(match))
	for i, c := range match {
		out[i] = &http.Cookie{Name: c.Name, Value: c.Value}
	}
	return out
}

// All returns the cookies that have not expired.
func (j *Jar) All() []Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.now()
	var out []Cookie
	for _, c := range j.cookies {
		if c.Expires.IsZero() || c.Expires.After(now) {
			out = append(out, c)
		}
	}
	return out
}

// Add stores cookies as they are (from a saved session).
func (j *Jar) Add(cs ...Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, c := range cs {
		j.put(c, j.now())
	}
}

// ReadNetscape adds the cookies of a Netscape cookie file: one cookie a
// line, seven fields separated by tabs (domain, include-subdomains,
// path, secure, expiry in Unix seconds, name, value); # lines are
// comments, except curl's #HttpOnly_ prefix. A line that breaks the
// format is an error naming it.
func (j *Jar) ReadNetscape(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var cs []Cookie
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		httpOnly := false
		if rest, ok := strings.CutPrefix(line, "#HttpOnly_"); ok {
			line, httpOnly = rest, true
		}
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 7 {
			return fmt.Errorf("line %d: %d tab-separated fields, want 7 (domain, subdomains, path, secure, expiry, name, value)", n, len(f))
		}
		exp, err := strconv.ParseInt(f[4], 10, 64)
		if err != nil || exp < 0 {
			return fmt.Errorf("line %d: invalid expiry %q: Unix seconds, 0 for a session cookie", n, f[4])
		}
		sub, ok1 := netscapeBool(f[1])
		secure, ok2 := netscapeBool(f[3])
		if !ok1 || !ok2 {
			return fmt.Errorf("line %d: the subdomains and secure fields are TRUE or FALSE", n)
		}
		c := Cookie{Name: f[5], Value: f[6], Domain: strings.ToLower(strings.TrimPrefix(f[0], ".")), HostOnly: !sub,
			Path: f[2], Secure: secure, HTTPOnly: httpOnly}
		if exp > 0 {
			c.Expires = time.Unix(exp, 0)
		}
		if c.Domain == "" || c.Name == "" || !strings.HasPrefix(c.Path, "/") {
			return fmt.Errorf("line %d: a cookie needs a domain, a name and a path starting with /", n)
		}
		cs = append(cs, c)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	j.Add(cs...)
	return nil
}

func netscapeBool(s string) (bool, bool) {
	switch strings.ToUpper(s) {
	case "TRUE":
		return true, true
	case "FALSE":
		return false, true
	}
	return false, false
}

// Session is what --session keeps between calls: the headers sent and the
// cookies received.
type Session struct {
	Headers []Field  `json:"headers"`
	Cookies []Cookie `json:"cookies"`
}

// ReadSession reads a session saved by [Session.Write].
func ReadSession(r io.Reader) (*Session, error) {
	var s Session
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("not a netkit session: %v", err)
	}
	return &s, Header(s.Headers).Validate()
}

// Write saves the session as JSON.
func (s *Session) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

func canonicalHost(hostport string) string {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	return strings.ToLower(strings.TrimSuffix(strings.Trim(h, "[]"), "."))
}

// domainMatch is RFC 6265 section 5.1.3.
func domainMatch(host, domain string) bool {
	if host == domain {
		return true
	}
	return net.ParseIP(host) == nil && strings.HasSuffix(host, "."+domain)
}

// defaultPath is RFC 6265 section 5.1.4.
func defaultPath(p string) string {
	if p == "" || p[0] != '/' {
		return "/"
	}
	i := strings.LastIndexByte(p, '/')
	if i == 0 {
		return "/"
	}
	return p[:i]
}

// pathMatch is RFC 6265 section 5.1.4.
func pathMatch(reqPath, cookiePath string) bool {
	if reqPath == cookiePath {
		return true
	}
	if strings.HasPrefix(reqPath, cookiePath) {
		return strings.HasSuffix(cookiePath, "/") || reqPath[len(cookiePath)] == '/'
	}
	return false
}

// SessionPath is where the session NAME is kept: NAME itself when it
// holds a slash (a path), otherwise NAME.json under dir (netkit uses
// $XDG_CONFIG_HOME/netkit/sessions). A bare name is letters, digits, '.',
// '_' and '-', and does not start with a dot.
func SessionPath(name, dir string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	ok := name != "" && name[0] != '.'
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			ok = false
		}
	}
	if !ok {
		return "", fmt.Errorf("invalid session name %q: letters, digits, '.', '_' and '-', not starting with a dot (or a path with a /)", name)
	}
	return filepath.Join(dir, name+".json"), nil
}

// LoadSession reads the session at path; a file that does not exist is
// an empty session.
func LoadSession(path string) (*Session, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Session{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := ReadSession(f)
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", path, err)
	}
	return s, nil
}

// Save writes the session to path with mode 0600 (its directory 0700),
// whole or not at all.
func (s *Session) Save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".session-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := s.Write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Remember keeps the headers of req that a session carries to later
// calls (all but the body's own and Cookie, which the jar keeps).
func (s *Session) Remember(h Header) {
	for _, f := range h {
		switch strings.ToLower(f.Name) {
		case "content-type", "content-length", "cookie", "host":
			continue
		}
		hs := Header(s.Headers)
		hs.Set(f.Name, f.Value)
		s.Headers = hs
	}
}

// Apply adds the session's headers to req where req does not set them.
func (s *Session) Apply(req *Request) {
	for _, f := range s.Headers {
		if !req.Header.Has(f.Name) && !omitted(req.Omit, f.Name) {
			req.Header.Add(f.Name, f.Value)
		}
	}
}
