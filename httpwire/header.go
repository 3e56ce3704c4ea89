package httpwire

import (
	"fmt"
	"strings"
)

// Field is one header field line: a name as it was written and its value
// with surrounding whitespace removed.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Header is a header or trailer section: its fields in the order they were
// written or received. Lookups ignore the case of names.
type Header []Field

// Get returns the value of the first field called name, or "".
func (h Header) Get(name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Has reports whether a field called name is present.
func (h Header) Has(name string) bool {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// Values returns the values of every field called name, in order.
func (h Header) Values(name string) []string {
	var vs []string
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			vs = append(vs, f.Value)
		}
	}
	return vs
}

// List returns the elements of a list-valued field (RFC 9110 section 5.6.1)
// across every line called name: split on commas, trimmed, empty elements
// dropped.
func (h Header) List(name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for e := range strings.SplitSeq(v, ",") {
			if e = strings.Trim(e, " \t"); e != "" {
				out = append(out, e)
			}
		}
	}
	return out
}

// Add appends a field.
func (h *Header) Add(name, value string) { *h = append(*h, Field{name, value}) }

// Set replaces every field called name by one with value, at the place of
// the first, or at the end.
func (h *Header) Set(name, value string) {
	out := (*h)[:0]
	done := false
	for _, f := range *h {
		if strings.EqualFold(f.Name, name) {
			if done {
				continue
			}
			f.Value, done = value, true
		}
		out = append(out, f)
	}
	if !done {
		out = append(out, Field{name, value})
	}
	*h = out
}

// Del removes every field called name.
func (h *Header) Del(name string) {
	out := (*h)[:0]
	for _, f := range *h {
		if !strings.EqualFold(f.Name, name) {
			out = append(out, f)
		}
	}
	*h = out
}

// Clone returns a copy that shares nothing with h.
func (h Header) Clone() Header { return append(Header(nil), h...) }

// Validate checks fields before they are sent: names are tokens, values
// hold no CR, LF or NUL (which would let a value end the line and smuggle
// in fields or a second request), and Content-Length and
// Transfer-Encoding are absent, since the client sets them from the body.
func (h Header) Validate() error {
	for _, f := range h {
		if err := checkFieldName(f.Name); err != nil {
			return err
		}
		if strings.EqualFold(f.Name, "Content-Length") || strings.EqualFold(f.Name, "Transfer-Encoding") {
			return fmt.Errorf("header %s is set from the body; do not give it", f.Name)
		}
		if i := strings.IndexAny(f.Value, "\r\n\x00"); i >= 0 {
			return fmt.Errorf("header %s: value %q holds %s, which may not appear in a field value (RFC 9110 section 5.5)", f.Name, f.Value, charName(f.Value[i]))
		}
	}
	return nil
}

func checkFieldName(name string) error {
	if name == "" {
		return fmt.Errorf("empty header field name")
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return fmt.Errorf("header field name %q holds %s: names are tokens (RFC 9110 section 5.1)", name, charName(name[i]))
		}
	}
	return nil
}

// isTokenChar reports whether c is a tchar (RFC 9110 section 5.6.2).
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// charName names a byte for an error message.
func charName(c byte) string {
	switch c {
	case '\r':
		return "CR"
	case '\n':
		return "LF"
	case 0:
		return "NUL"
	case ' ':
		return "a space"
	case '\t':
		return "a tab"
	}
	if c < 0x20 || c >= 0x7f {
		return fmt.Sprintf("byte 0x%02x", c)
	}
	return fmt.Sprintf("%q", rune(c))
}
