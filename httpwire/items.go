package httpwire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// ItemKind is what a request item adds to a request.
type ItemKind int

// The kinds of request item, by their separators (HTTPie's).
const (
	ItemHeader    ItemKind = iota // Name:value; "Name:" leaves out a default header
	ItemQuery                     // name==value, a query parameter
	ItemField                     // name=value, a JSON string or form field
	ItemJSON                      // name:=json, a raw JSON value
	ItemFile                      // name@path, a file in a multipart form
	ItemFieldFile                 // name=@path, a field whose value is the file's text
	ItemJSONFile                  // name:=@path, a raw JSON value read from the file
)

var itemSeps = []struct {
	sep  string
	kind ItemKind
}{
	// Longest first: at one position, ":=@" wins over ":=" and ":".
	{":=@", ItemJSONFile}, {"=@", ItemFieldFile}, {":=", ItemJSON}, {"==", ItemQuery},
	{"=", ItemField}, {"@", ItemFile}, {":", ItemHeader},
}

// Item is one request item.
type Item struct {
	Kind  ItemKind
	Name  string
	Value string // for the file kinds, the path
}

// ParseItem reads one request item, HTTPie's way: the first separator in
// the text decides its kind (the longest at that place); a backslash
// makes the next separator character (: = @) or backslash plain text.
func ParseItem(s string) (Item, error) {
	var name strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && strings.IndexByte(`:=@\`, s[i+1]) >= 0 {
			name.WriteByte(s[i+1])
			i++
			continue
		}
		for _, sp := range itemSeps {
			if !strings.HasPrefix(s[i:], sp.sep) {
				continue
			}
			it := Item{Kind: sp.kind, Name: name.String(), Value: s[i+len(sp.sep):]}
			if it.Name == "" {
				return Item{}, fmt.Errorf("invalid request item %q: it has no name before %q", s, sp.sep)
			}
			if it.Kind == ItemHeader {
				it.Value = strings.Trim(it.Value, " \t")
				if err := checkFieldName(it.Name); err != nil {
					return Item{}, fmt.Errorf("invalid request item %q: %v", s, err)
				}
			}
			if it.Kind >= ItemFile && it.Value == "" {
				return Item{}, fmt.Errorf("invalid request item %q: it names no file after %q", s, sp.sep)
			}
			return it, nil
		}
		name.WriteByte(c)
	}
	return Item{}, fmt.Errorf("invalid request item %q: it has none of the separators Header:value, query==value, field=value, field:=json, field=@file, field:=@file, file@path (and a URL starts with http:// or https://)", s)
}

// Items are the request items of one command line, in order.
type Items []Item

// ParseItems reads request items with [ParseItem].
func ParseItems(args []string) (Items, error) {
	its := make(Items, 0, len(args))
	for _, a := range args {
		it, err := ParseItem(a)
		if err != nil {
			return nil, err
		}
		its = append(its, it)
	}
	return its, nil
}

// Headers are the header items that set a value, in order.
func (its Items) Headers() Header {
	var h Header
	for _, it := range its {
		if it.Kind == ItemHeader && it.Value != "" {
			h.Add(it.Name, it.Value)
		}
	}
	return h
}

// HasBody says whether the items make a body.
func (its Items) HasBody() bool {
	for _, it := range its {
		if it.Kind >= ItemField {
			return true
		}
	}
	return false
}

// Apply adds the items to req: headers, query parameters, and a body of
// the data fields: a JSON object (fields in the order given), or with
// form an application/x-www-form-urlencoded form, or multipart/form-data
// when a file is attached. Files are read when Apply runs; the body is
// built in memory, so the request can be sent again (to follow a
// redirect). Content-Type and Accept are set unless the items or
// req.Header already set them.
func (its Items) Apply(req *Request, form bool) error {
	q := req.URL.RawQuery
	for _, it := range its {
		switch it.Kind {
		case ItemHeader:
			if it.Value == "" {
				req.Omit = append(req.Omit, it.Name)
				continue
			}
			req.Header.Set(it.Name, it.Value)
		case ItemQuery:
			if q != "" {
				q += "&"
			}
			q += url.QueryEscape(it.Name) + "=" + url.QueryEscape(it.Value)
		}
	}
	req.URL.RawQuery = q
	if err := req.Header.Validate(); err != nil {
		return err
	}
	if !its.HasBody() {
		return nil
	}
	body, ctype, err := its.body(form)
	if err != nil {
		return err
	}
	if err := req.SetBody(bytes.NewReader(body)); err != nil {
		return err
	}
	if !req.Header.Has("Content-Type") {
		req.Header.Add("Content-Type", ctype)
	}
	if !req.Header.Has("Accept") && ctype == "application/json" {
		req.Header.Add("Accept", "application/json, */*;q=0.5")
	}
	return nil
}

func (its Items) body(form bool) ([]byte, string, error) {
	multi := false
	for _, it := range its {
		switch {
		case it.Kind == ItemFile:
			multi = true
		case form && (it.Kind == ItemJSON || it.Kind == ItemJSONFile):
			return nil, "", fmt.Errorf("invalid request item %s:=...: raw JSON does not go in a form (drop --form)", it.Name)
		}
	}
	if multi && !form {
		return nil, "", fmt.Errorf("a file item (NAME@PATH) sends a multipart form: add --form")
	}
	switch {
	case multi:
		return its.multipart()
	case form:
		vals := make([]string, 0, len(its))
		for _, it := range its {
			v, ok, err := it.text()
			if err != nil {
				return nil, "", err
			}
			if ok {
				vals = append(vals, url.QueryEscape(it.Name)+"="+url.QueryEscape(v))
			}
		}
		return []byte(strings.Join(vals, "&")), "application/x-www-form-urlencoded", nil
	}
	var b bytes.Buffer
	b.WriteByte('{')
	seen := map[string]bool{}
	for _, it := range its {
		if it.Kind < ItemField {
			continue
		}
		if seen[it.Name] {
			return nil, "", fmt.Errorf("invalid request item: field %q is given twice; a JSON object has one value a name", it.Name)
		}
		seen[it.Name] = true
		var raw []byte
		switch it.Kind {
		case ItemJSON, ItemJSONFile:
			raw = []byte(it.Value)
			if it.Kind == ItemJSONFile {
				var err error
				if raw, err = os.ReadFile(it.Value); err != nil {
					return nil, "", fmt.Errorf("request item %s:=@%s: %w", it.Name, it.Value, err)
				}
			}
			if !json.Valid(raw) {
				return nil, "", fmt.Errorf("invalid request item %s:=%s: the value is not JSON (a string needs quotes, or use =)", it.Name, abbrev(it.Value))
			}
			raw = bytes.TrimSpace(raw)
		default:
			v, _, err := it.text()
			if err != nil {
				return nil, "", err
			}
			raw = jsonString(v)
		}
		if len(seen) > 1 {
			b.WriteString(", ")
		}
		b.Write(jsonString(it.Name))
		b.WriteString(": ")
		b.Write(raw)
	}
	b.WriteByte('}')
	return b.Bytes(), "application/json", nil
}

// text is a field's value as text; ok is false for items that are not
// text fields.
func (it Item) text() (string, bool, error) {
	switch it.Kind {
	case ItemField:
		return it.Value, true, nil
	case ItemFieldFile:
		b, err := os.ReadFile(it.Value)
		if err != nil {
			return "", false, fmt.Errorf("request item %s=@%s: %w", it.Name, it.Value, err)
		}
		return string(b), true, nil
	}
	return "", false, nil
}

func (its Items) multipart() ([]byte, string, error) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, it := range its {
		switch it.Kind {
		case ItemField, ItemFieldFile:
			v, _, err := it.text()
			if err != nil {
				return nil, "", err
			}
			if err := mw.WriteField(it.Name, v); err != nil {
				return nil, "", err
			}
		case ItemFile:
			f, err := os.Open(it.Value)
			if err != nil {
				return nil, "", fmt.Errorf("request item %s@%s: %w", it.Name, it.Value, err)
			}
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", `form-data; name="`+escapeQuotes(it.Name)+`"; filename="`+escapeQuotes(filepath.Base(it.Value))+`"`)
			h.Set("Content-Type", "application/octet-stream")
			pw, err := mw.CreatePart(h)
			if err == nil {
				_, err = io.Copy(pw, f)
			}
			f.Close()
			if err != nil {
				return nil, "", fmt.Errorf("request item %s@%s: %w", it.Name, it.Value, err)
			}
		}
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return b.Bytes(), mw.FormDataContentType(), nil
}

func escapeQuotes(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "%0D", "\n", "%0A").Replace(s)
}

func abbrev(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// jsonString encodes s as a JSON string, leaving <, > and & as they are.
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// SplitArgs tells the URLs among a command line's arguments from the
// request items: the first argument is a URL, and so is each later one
// that starts with http:// or https://; the rest are items.
func SplitArgs(args []string) (urls []string, items Items, err error) {
	if len(args) == 0 {
		return nil, nil, nil
	}
	urls = args[:1:1]
	var rest []string
	for _, a := range args[1:] {
		l := strings.ToLower(a)
		if strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") {
			urls = append(urls, a)
		} else {
			rest = append(rest, a)
		}
	}
	if items, err = ParseItems(rest); err != nil {
		return nil, nil, err
	}
	return urls, items, nil
}
