package extract

import (
	"fmt"
	"io"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
)

// Selector is a compiled CSS selector.
type Selector struct {
	src string
	sel cascadia.Selector
}

// ParseSelector compiles a CSS selector (the level of CSS that cascadia
// takes: selectors 3 and the common parts of 4).
func ParseSelector(css string) (*Selector, error) {
	sel, err := cascadia.Compile(css)
	if err != nil {
		return nil, fmt.Errorf("invalid CSS selector %q: %v", css, err)
	}
	return &Selector{src: css, sel: sel}, nil
}

// String is the selector's source.
func (s *Selector) String() string { return s.src }

// Pick says what to take from each element found.
type Pick struct {
	// Attr takes this attribute's value; elements without it give nothing
	// (as pup's attr{NAME}).
	Attr string
	// Text takes the element's text, its text nodes joined.
	Text bool
}

// Select parses an HTML document from r, decoding it to UTF-8 with the
// charset of contentType (the Content-Type header's value; may be empty),
// a byte order mark or a <meta> tag, and returns what pick takes from
// each element that matches, in document order. With neither Attr nor
// Text, each element's outer HTML.
func (s *Selector) Select(r io.Reader, contentType string, pick Pick, lim Limits) ([]string, error) {
	br := bound(r, lim.maxInput(defaultMaxMarkup))
	utf8r, err := charset.NewReader(br, contentType)
	if err != nil {
		return nil, fmt.Errorf("the body's character set: %w", err)
	}
	doc, err := goquery.NewDocumentFromReader(utf8r)
	if err != nil {
		return nil, fmt.Errorf("the body is not HTML: %w", err)
	}
	var out []string
	var ferr error
	doc.FindMatcher(s.sel).Each(func(_ int, e *goquery.Selection) {
		switch {
		case pick.Attr != "":
			if v, ok := e.Attr(pick.Attr); ok {
				out = append(out, v)
			}
		case pick.Text:
			out = append(out, e.Text())
		default:
			var b strings.Builder
			for _, n := range e.Nodes {
				if err := html.Render(&b, n); err != nil && ferr == nil {
					ferr = err
				}
			}
			out = append(out, b.String())
		}
	})
	return out, ferr
}
