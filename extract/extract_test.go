package extract_test

import (
	"bytes"
	"context"
	"errors"
	"html"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/extract"
	"github.com/netkit-dev/netkit/internal/testutil"
)

// The programs checked against jq 1.6 (jq -c -S, keys sorted as gojq
// prints them), over testdata/api.json and testdata/stream.ndjson.
var jqPrograms = []struct{ file, prog string }{
	{"api.json", "."},
	{"api.json", ".items[].name"},
	{"api.json", ".items | map(select(.stars > 10)) | map(.owner.login)"},
	{"api.json", "[.items[] | {name, stars, lic: .license.key}]"},
	{"api.json", ".items | sort_by(-.stars) | .[0].name"},
	{"api.json", ".items | group_by(.owner.type) | map({type: .[0].owner.type, n: length})"},
	{"api.json", "[.items[].topics[]] | unique"},
	{"api.json", ".items[] | select(.license == null) | .id"},
	{"api.json", "[.items[].score] | add"},
	{"api.json", ".items | to_entries | map(\"\\(.key):\\(.value.name)\")"},
	{"api.json", "[paths(type == \"number\")] | length"},
	{"api.json", ".items[0] | keys"},
	{"api.json", ".missing // \"default\""},
	{"api.json", ".items[] | .name | ascii_downcase | test(\"ncat\")"},
	{"stream.ndjson", ".a"},
	{"stream.ndjson", "select(.b) | .b | length"},
}

func TestJQMatchesJq(t *testing.T) {
	jq := testutil.Program(t, "jq")
	for _, tc := range jqPrograms {
		t.Run(tc.file+" "+tc.prog, func(t *testing.T) {
			want, err := exec.Command(jq, "-c", "-S", tc.prog, "testdata/"+tc.file).Output()
			if err != nil {
				t.Fatalf("jq: %v", err)
			}
			q, err := extract.ParseJQ(tc.prog)
			if err != nil {
				t.Fatal(err)
			}
			f, _ := os.Open("testdata/" + tc.file)
			defer f.Close()
			var got bytes.Buffer
			if err := q.Write(context.Background(), f, &got, extract.Limits{}, extract.Format{Compact: true}); err != nil {
				t.Fatal(err)
			}
			if got.String() != string(want) {
				t.Errorf("netkit:\n%s\njq:\n%s", got.String(), want)
			}
		})
	}
}

func TestJQRawAndIndent(t *testing.T) {
	jq := testutil.Program(t, "jq")
	for _, args := range [][]string{{"-r", ".items[].name"}, {"-S", ".items[1]"}} {
		want, err := exec.Command(jq, append(args, "testdata/api.json")...).Output()
		if err != nil {
			t.Fatal(err)
		}
		q, _ := extract.ParseJQ(args[1])
		f, _ := os.Open("testdata/api.json")
		var got bytes.Buffer
		err = q.Write(context.Background(), f, &got, extract.Limits{}, extract.Format{Raw: args[0] == "-r"})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != string(want) {
			t.Errorf("jq %s:\nnetkit:\n%s\njq:\n%s", strings.Join(args, " "), got.String(), want)
		}
	}
}

func TestJQBounds(t *testing.T) {
	ctx := context.Background()
	run := func(prog, in string, lim extract.Limits) error {
		q, err := extract.ParseJQ(prog)
		if err != nil {
			return err
		}
		return q.Write(ctx, strings.NewReader(in), io.Discard, lim, extract.Format{})
	}
	start := time.Now()
	err := run("def f: f; f", "1", extract.Limits{Timeout: 200 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "stopped after 200ms") || time.Since(start) > 5*time.Second {
		t.Errorf("endless recursion: %v after %s", err, time.Since(start))
	}
	err = run("repeat(1)", "1", extract.Limits{Timeout: 200 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "stopped after") {
		t.Errorf("endless output: %v", err)
	}
	if err := run(".", `{"a": 1}`+strings.Repeat(" ", 100), extract.Limits{MaxInput: 50}); !errors.Is(err, extract.ErrTooLarge) {
		t.Errorf("input over the limit: %v", err)
	}
	if err := run(".", `{"a": 1}`, extract.Limits{MaxInput: 8}); err != nil {
		t.Errorf("input exactly at the limit: %v", err)
	}
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	if err := run(".", deep, extract.Limits{}); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Errorf("JSON nested 100,000 deep: %v", err)
	}
	if err := run(".", "{\"a\": \"\xff\"}", extract.Limits{}); err != nil {
		t.Errorf("invalid UTF-8 in a string (replaced, as jq does): %v", err)
	}
	if err := run(".a", `{"a":1} nonsense`, extract.Limits{}); err == nil || !strings.Contains(err.Error(), "value 2") {
		t.Errorf("garbage after a value: %v", err)
	}
	if _, err := extract.ParseJQ(".a |"); err == nil || !strings.Contains(err.Error(), `invalid jq program ".a |"`) {
		t.Errorf("bad program: %v", err)
	}
}

func TestSelectMatchesPup(t *testing.T) {
	pup := testutil.Program(t, "pup")
	cases := []struct {
		file, css, pupFn string
		pick             extract.Pick
	}{
		{"links.html", "a", "attr{href}", extract.Pick{Attr: "href"}},
		{"links.html", "li", "attr{data-n}", extract.Pick{Attr: "data-n"}},
		{"links.html", "#main a.nav", "text{}", extract.Pick{Text: true}},
		{"links.html", "a:nth-of-type(2)", "text{}", extract.Pick{Text: true}},
		{"links.html", "p", "text{}", extract.Pick{Text: true}},
		{"latin1.html", "title", "text{}", extract.Pick{Text: true}},
		{"latin1.html", "p.x", "text{}", extract.Pick{Text: true}},
		{"latin1.html", "a", "attr{href}", extract.Pick{Attr: "href"}},
		{"sjis.html", "h1, li", "text{}", extract.Pick{Text: true}},
	}
	for _, c := range cases {
		t.Run(c.file+" "+c.css+" "+c.pupFn, func(t *testing.T) {
			raw, _ := os.ReadFile("testdata/" + c.file)
			cmd := exec.Command(pup, c.css+" "+c.pupFn)
			cmd.Stdin = bytes.NewReader(raw)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("pup: %v", err)
			}
			sel, err := extract.ParseSelector(c.css)
			if err != nil {
				t.Fatal(err)
			}
			got, err := sel.Select(bytes.NewReader(raw), "text/html", c.pick, extract.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			// pup escapes attribute values as HTML and prints each text
			// node on a line of its own; compare the words.
			want := strings.Fields(html.UnescapeString(string(out)))
			have := strings.Fields(strings.Join(got, " "))
			if strings.Join(have, " ") != strings.Join(want, " ") {
				t.Errorf("netkit %q, pup %q", have, want)
			}
			if len(have) == 0 {
				t.Errorf("found nothing")
			}
		})
	}
}

func TestSelectCharsetFromHeader(t *testing.T) {
	// No <meta>: only the header says Latin-1.
	body := []byte("<p>Cr\xe8me br\xfbl\xe9e</p>")
	sel, _ := extract.ParseSelector("p")
	got, err := sel.Select(bytes.NewReader(body), "text/html; charset=ISO-8859-1", extract.Pick{Text: true}, extract.Limits{})
	if err != nil || len(got) != 1 || got[0] != "Crème brûlée" {
		t.Errorf("got %q, %v", got, err)
	}
	// A UTF-8 byte order mark wins over a wrong header.
	body = append([]byte("\xef\xbb\xbf"), "<p>Crème</p>"...)
	got, err = sel.Select(bytes.NewReader(body), "text/html; charset=ISO-8859-1", extract.Pick{Text: true}, extract.Limits{})
	if err != nil || len(got) != 1 || got[0] != "Crème" {
		t.Errorf("BOM: got %q, %v", got, err)
	}
	if _, err := sel.Select(strings.NewReader(strings.Repeat("<p>x</p>", 1000)), "", extract.Pick{}, extract.Limits{MaxInput: 100}); !errors.Is(err, extract.ErrTooLarge) {
		t.Errorf("HTML over the limit: %v", err)
	}
	if _, err := extract.ParseSelector("a[href"); err == nil || !strings.Contains(err.Error(), `invalid CSS selector "a[href"`) {
		t.Errorf("bad selector: %v", err)
	}
}

func TestXPath(t *testing.T) {
	doc := `<?xml version="1.0" encoding="ISO-8859-1"?>
<feed><entry id="1"><title>Caf` + "\xe9" + `</title></entry><entry id="2"><title>Two</title></entry></feed>`
	cases := []struct {
		expr string
		text bool
		want []string
	}{
		{"//entry/title", true, []string{"Café", "Two"}},
		{"//entry[@id='2']/title", false, []string{"<title>Two</title>"}},
		{"//entry/@id", false, []string{"1", "2"}},
		{"count(//entry)", false, []string{"2"}},
		{"string(//entry[1]/title)", false, []string{"Café"}},
		{"count(//entry) > 1", false, []string{"true"}},
	}
	for _, c := range cases {
		x, err := extract.ParseXPath(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		got, err := x.Select(strings.NewReader(doc), c.text, extract.Limits{})
		if err != nil || strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s: %q, %v; want %q", c.expr, got, err, c.want)
		}
	}
	if _, err := extract.ParseXPath("//a["); err == nil {
		t.Errorf("bad XPath accepted")
	}
	x, _ := extract.ParseXPath("//a")
	if _, err := x.Select(strings.NewReader("<a><b></a>"), false, extract.Limits{}); err == nil || !strings.Contains(err.Error(), "not XML") {
		t.Errorf("broken XML: %v", err)
	}
}

func TestWriterStopsOnBadInput(t *testing.T) {
	q, _ := extract.ParseJQ(".")
	var out bytes.Buffer
	w := extract.Spec{JQ: q}.NewWriter(context.Background(), "application/json", &out)
	// A body much larger than the pipe: the writer must not block once
	// the extraction has failed.
	var werr error
	for range 1000 {
		if _, werr = w.Write([]byte("<html>not json</html>")); werr != nil {
			break
		}
	}
	cerr := w.Close()
	if werr == nil || cerr == nil || !strings.Contains(cerr.Error(), "not JSON") {
		t.Errorf("write error %v, close error %v", werr, cerr)
	}
}

func TestColorMatchesJq(t *testing.T) {
	jq := testutil.Program(t, "jq")
	// jq 1.6 and 1.7 colour differently; compare what the colours mark:
	// the keys and strings stay as they are, and stripping the codes
	// gives jq's text back.
	want, err := exec.Command(jq, "-S", ".items[1]", "testdata/api.json").Output()
	if err != nil {
		t.Fatal(err)
	}
	q, _ := extract.ParseJQ(".items[1]")
	f, _ := os.Open("testdata/api.json")
	defer f.Close()
	var got bytes.Buffer
	if err := q.Write(context.Background(), f, &got, extract.Limits{}, extract.Format{Color: true}); err != nil {
		t.Fatal(err)
	}
	plain := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(got.String(), "")
	if plain != string(want) {
		t.Errorf("without colours:\n%s\njq:\n%s", plain, want)
	}
	for _, frag := range []string{"\x1b[34;1m\"owner\"\x1b[0m: ", "\x1b[0;32m\"bob\"\x1b[0m"} {
		if !strings.Contains(got.String(), frag) {
			t.Errorf("no %q in %q", frag, got.String())
		}
	}
}

// endless is an HTML page that never ends: "<p>x</p>" for ever.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	const unit = "<p>x</p>"
	for i := range p {
		p[i] = unit[(e.n+int64(i))%int64(len(unit))]
	}
	e.n += int64(len(p))
	return len(p), nil
}

func TestHostilePages(t *testing.T) {
	// A page of 100 MiB (here, without end) stops at the default limit,
	// with an error that says so, having read 8 MiB.
	page := &endless{}
	sel, _ := extract.ParseSelector("p")
	_, err := sel.Select(page, "text/html", extract.Pick{Text: true}, extract.Limits{})
	if !errors.Is(err, extract.ErrTooLarge) || !strings.Contains(err.Error(), "8388608 bytes") {
		t.Errorf("endless page: %v", err)
	}
	// The bytes read show that it stopped at the limit; how long the
	// parse took is not a thing to assert on a shared, loaded machine.
	if page.n > 9<<20 {
		t.Errorf("read %d bytes of an endless page, want the 8 MiB limit", page.n)
	}
	x, _ := extract.ParseXPath("//p")
	if _, err := x.Select(&endless{}, false, extract.Limits{}); !errors.Is(err, extract.ErrTooLarge) {
		t.Errorf("endless XML: %v", err)
	}
}
