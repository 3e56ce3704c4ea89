package httpwire

import (
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseItem(t *testing.T) {
	tests := []struct {
		in      string
		want    Item
		wantErr string
	}{
		{in: "X-Api-Key:abc", want: Item{ItemHeader, "X-Api-Key", "abc"}},
		{in: "Accept: text/plain ", want: Item{ItemHeader, "Accept", "text/plain"}},
		{in: "User-Agent:", want: Item{ItemHeader, "User-Agent", ""}},
		{in: "q==dns lookup", want: Item{ItemQuery, "q", "dns lookup"}},
		{in: "name=netkit", want: Item{ItemField, "name", "netkit"}},
		{in: "url=http://x/?a=b", want: Item{ItemField, "url", "http://x/?a=b"}},
		{in: "count:=3", want: Item{ItemJSON, "count", "3"}},
		{in: "doc:=@d.json", want: Item{ItemJSONFile, "doc", "d.json"}},
		{in: "bio=@bio.txt", want: Item{ItemFieldFile, "bio", "bio.txt"}},
		{in: "cv@cv.pdf", want: Item{ItemFile, "cv", "cv.pdf"}},
		{in: "X-Time:12:30", want: Item{ItemHeader, "X-Time", "12:30"}},
		{in: `a\=b=c`, want: Item{ItemField, "a=b", "c"}},
		{in: `mail\@host=x`, want: Item{ItemField, "mail@host", "x"}},
		{in: `k\:v:=1`, want: Item{ItemJSON, "k:v", "1"}},
		{in: "empty=", want: Item{ItemField, "empty", ""}},
		{in: "=value", wantErr: `invalid request item "=value": it has no name before "="`},
		{in: "plain", wantErr: `invalid request item "plain": it has none of the separators`},
		{in: "f@", wantErr: `it names no file after "@"`},
		{in: "Bad Header:x", wantErr: `invalid request item "Bad Header:x"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseItem(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseItem(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func applyItems(t *testing.T, form bool, args ...string) (*Request, string) {
	t.Helper()
	its, err := ParseItems(args)
	if err != nil {
		t.Fatal(err)
	}
	req, err := NewRequest("POST", "http://127.0.0.1/x?a=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := its.Apply(req, form); err != nil {
		t.Fatal(err)
	}
	if req.Body == nil {
		return req, ""
	}
	b, _ := io.ReadAll(req.Body)
	if int64(len(b)) != req.ContentLength {
		t.Errorf("Content-Length %d for %d bytes", req.ContentLength, len(b))
	}
	return req, string(b)
}

func TestItemsApplyJSON(t *testing.T) {
	req, body := applyItems(t, false, "name=net<kit>", "n:=3", `tags:=["a", "b"]`, "q==a b", "X-K:v", "User-Agent:")
	if want := `{"name": "net<kit>", "n": 3, "tags": ["a", "b"]}`; body != want {
		t.Errorf("body %s, want %s", body, want)
	}
	if !json.Valid([]byte(body)) {
		t.Errorf("body is not JSON")
	}
	if req.URL.RawQuery != "a=1&q=a+b" {
		t.Errorf("query %q", req.URL.RawQuery)
	}
	if req.Header.Get("Content-Type") != "application/json" || req.Header.Get("Accept") != "application/json, */*;q=0.5" || req.Header.Get("X-K") != "v" {
		t.Errorf("header %v", req.Header)
	}
	if len(req.Omit) != 1 || req.Omit[0] != "User-Agent" {
		t.Errorf("omit %v", req.Omit)
	}
	// A 307 sends the same body again.
	again, _ := req.GetBody()
	if b, _ := io.ReadAll(again); string(b) != body {
		t.Errorf("GetBody gave %q", b)
	}
}

func TestItemsApplyForms(t *testing.T) {
	req, body := applyItems(t, true, "a=1 2", "b=&")
	if body != "a=1+2&b=%26" || req.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("form body %q, type %q", body, req.Header.Get("Content-Type"))
	}
	dir := t.TempDir()
	file := filepath.Join(dir, `up"load.bin`)
	os.WriteFile(file, []byte("\x00\x01binary"), 0o644)
	req, body = applyItems(t, true, "title=hi", "doc@"+file)
	mt, params, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("type %q: %v", req.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(strings.NewReader(body), params["boundary"])
	form, err := mr.ReadForm(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if form.Value["title"][0] != "hi" || form.File["doc"][0].Filename != `up"load.bin` || form.File["doc"][0].Size != 8 {
		t.Errorf("form %v %v", form.Value, form.File["doc"][0])
	}
}

func TestItemsErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.json"), []byte("{nope"), 0o644)
	cases := []struct {
		form bool
		args []string
		want string
	}{
		{false, []string{"n:=three"}, "the value is not JSON"},
		{false, []string{"a=1", "a=2"}, `field "a" is given twice`},
		{false, []string{"f@" + dir + "/x"}, "add --form"},
		{true, []string{"n:=3"}, "raw JSON does not go in a form"},
		{false, []string{"d:=@" + dir + "/bad.json"}, "not JSON"},
		{false, []string{"d=@" + dir + "/missing"}, "no such file"},
		{false, []string{"X-Bad:a\nb"}, "X-Bad"},
	}
	for _, c := range cases {
		its, err := ParseItems(c.args)
		if err == nil {
			req, _ := NewRequest("POST", "http://127.0.0.1/", nil)
			err = its.Apply(req, c.form)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q (form %v): %v, want %q", c.args, c.form, err, c.want)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	urls, items, err := SplitArgs([]string{"http://a/", "x=1", "HTTPS://b/", "H:v"})
	if err != nil || len(urls) != 2 || urls[1] != "HTTPS://b/" || len(items) != 2 {
		t.Errorf("%q %v %v", urls, items, err)
	}
	// The first argument is a URL whatever it looks like, so that
	// host:port is refused as a URL, never sent as a header.
	urls, items, _ = SplitArgs([]string{"localhost:8080/x"})
	if len(urls) != 1 || len(items) != 0 {
		t.Errorf("%q %v", urls, items)
	}
}

func TestParseLinks(t *testing.T) {
	base, _ := ParseURL("https://api.example/items?page=2")
	h := Header{
		{"Link", `<https://api.example/items?page=3>; rel="next", <https://api.example/items?page=1>; rel="prev first"`},
		{"Link", `</items?page=9>; rel=last; title="a, b; c", <broken; rel=next`},
	}
	links := ParseLinks(h, base)
	if len(links) != 3 {
		t.Fatalf("links %+v", links)
	}
	if links[0].URL.String() != "https://api.example/items?page=3" || links[0].Rel[0] != "next" {
		t.Errorf("first %+v", links[0])
	}
	if len(links[1].Rel) != 2 || links[1].Rel[1] != "first" {
		t.Errorf("second %+v", links[1])
	}
	if links[2].URL.String() != "https://api.example/items?page=9" || links[2].Params["title"] != "a, b; c" {
		t.Errorf("third %+v", links[2])
	}
}

func FuzzParseItem(f *testing.F) {
	for _, s := range []string{"a=b", "a:=1", "H:v", "q==x", `a\=b=c`, "f@p", "a:=@f", "a=@f", `\\`, ":", "=", "a\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		it, err := ParseItem(s)
		if err != nil {
			return
		}
		if it.Name == "" {
			t.Fatalf("%q: an item with no name", s)
		}
		// The name and value come from the input, in order, with escapes
		// removed: never more bytes than went in.
		if len(it.Name)+len(it.Value) > len(s) {
			t.Fatalf("%q: %+v is longer than its input", s, it)
		}
	})
}

func FuzzParseLinks(f *testing.F) {
	for _, s := range []string{`<a>; rel="next"`, `<a>;rel=next, <b>; rel="prev"`, `<`, `<a>; title="x\"y"; rel=next`, `;;,,<>`, `<a>; rel="`} {
		f.Add(s)
	}
	base, _ := ParseURL("http://h/p")
	f.Fuzz(func(t *testing.T, s string) {
		for _, l := range ParseLinks(Header{{"Link", s}}, base) {
			if l.URL == nil || l.Params == nil {
				t.Fatalf("%q: link %+v", s, l)
			}
		}
	})
}

func FuzzReadNetscape(f *testing.F) {
	f.Add("# Netscape HTTP Cookie File\n.example.org\tTRUE\t/\tFALSE\t0\tn\tv\n")
	f.Add("#HttpOnly_h\tFALSE\t/p\tTRUE\t1999999999\tn\tv")
	f.Add("a\tb")
	f.Fuzz(func(t *testing.T, s string) {
		j := &Jar{}
		if err := j.ReadNetscape(strings.NewReader(s)); err != nil {
			return
		}
		for _, c := range j.All() {
			if c.Name == "" || c.Domain == "" || !strings.HasPrefix(c.Path, "/") {
				t.Fatalf("%q: kept %+v", s, c)
			}
		}
	})
}
