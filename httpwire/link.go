package httpwire

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Link is one link of a Link header (RFC 8288).
type Link struct {
	URL    *url.URL // resolved against the request's URL
	Rel    []string // the relation types, lower case
	Params map[string]string
}

// ParseLinks reads the Link fields of h, resolving each target against
// base. Links that cannot be read are skipped: a Link header is advice.
func ParseLinks(h Header, base *url.URL) []Link {
	var links []Link
	for _, v := range h.Values("Link") {
		for v = strings.TrimSpace(v); v != ""; v = strings.TrimLeft(v, " \t,") {
			if v[0] != '<' {
				// Not a link: skip to the next comma.
				_, rest, ok := strings.Cut(v, ",")
				if !ok {
					break
				}
				v = rest
				continue
			}
			target, rest, ok := strings.Cut(v[1:], ">")
			if !ok {
				break
			}
			l := Link{Params: map[string]string{}}
			v = parseLinkParams(rest, l.Params)
			u, err := url.Parse(strings.TrimSpace(target))
			if err != nil {
				continue
			}
			if base != nil {
				u = base.ResolveReference(u)
			}
			l.URL = u
			l.Rel = strings.Fields(strings.ToLower(l.Params["rel"]))
			links = append(links, l)
		}
	}
	return links
}

// parseLinkParams reads ;name=value and ;name="quoted" parameters up to
// the comma that ends the link, and returns what follows it.
func parseLinkParams(s string, into map[string]string) string {
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" || s[0] == ',' {
			return strings.TrimPrefix(s, ",")
		}
		if s[0] != ';' {
			_, rest, _ := strings.Cut(s, ",")
			return rest
		}
		s = strings.TrimLeft(s[1:], " \t")
		i := strings.IndexAny(s, "=;,")
		if i < 0 {
			into[strings.ToLower(strings.TrimSpace(s))] = ""
			return ""
		}
		name := strings.ToLower(strings.TrimSpace(s[:i]))
		if s[i] != '=' {
			into[name] = ""
			s = s[i:]
			continue
		}
		s = strings.TrimLeft(s[i+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			j := 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			val, s = b.String(), s[min(j+1, len(s)):]
		} else {
			k := strings.IndexAny(s, ";,")
			if k < 0 {
				k = len(s)
			}
			val, s = strings.TrimSpace(s[:k]), s[k:]
		}
		if _, dup := into[name]; !dup { // RFC 8288: the first rel counts
			into[name] = val
		}
	}
}

// NextLink is the target of the response's Link rel="next", if any:
// the next page of a paginated API. A relative target is resolved against
// the URL that answered (after any redirects).
func NextLink(resp *Response) (*url.URL, bool) {
	base := resp.Request.URL
	if n := len(resp.Redirects); n > 0 {
		if u, err := url.Parse(resp.Redirects[n-1].To); err == nil {
			base = u
		}
	}
	for _, l := range ParseLinks(resp.Header, base) {
		for _, r := range l.Rel {
			if r == "next" {
				return l.URL, true
			}
		}
	}
	return nil, false
}

// NextPage is the request for the page after resp's (see [NextLink]), as
// a GET with the first request's header; the Authorization and Cookie
// fields are dropped when the next page is on another origin, as when
// following a redirect.
func NextPage(resp *Response, first *Request) (*Request, bool, error) {
	u, ok := NextLink(resp)
	if !ok {
		return nil, false, nil
	}
	req, err := NewRequest("GET", u.String(), nil)
	if err != nil {
		return nil, false, fmt.Errorf("the next page's link: %w", err)
	}
	req.Header, req.Omit = first.Header.Clone(), first.Omit
	req.Header.Del("Content-Type")
	if origin(u) != origin(first.URL) {
		req.Header.Del("Authorization")
		req.Header.Del("Cookie")
	}
	return req, true, nil
}

// Paginate is a FetchOptions.Next that follows each response's
// Link: rel="next" (see [NextPage]), failing with [ErrTooManyPages] when
// a page past the max would be fetched.
func Paginate(max int) func(*Result) (*Request, error) {
	pages := 0
	return func(r *Result) (*Request, error) {
		pages++
		next, ok, err := NextPage(r.Response, r.Request)
		if ok && pages >= max {
			return nil, fmt.Errorf("%w: stopped after %d pages (--max-pages)", ErrTooManyPages, pages)
		}
		return next, err
	}
}

// ErrTooManyPages is what Paginate returns past its max.
var ErrTooManyPages = errors.New("too many pages")
