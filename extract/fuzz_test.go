package extract_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/extract"
)

func FuzzJQ(f *testing.F) {
	f.Add(".a", `{"a":1}`)
	f.Add(".[] | select(. > 1)", `[1,2,3]`)
	f.Add(`def f: f; f`, `1`)
	f.Add(`[limit(5; repeat(1))]`, `null`)
	f.Add(`.a.b.c // "x"`, `{"a":{"b":null}} {"a":2}`)
	f.Add(`tostring | explode | implode`, `"\ud800"`)
	f.Fuzz(func(t *testing.T, prog, in string) {
		q, err := extract.ParseJQ(prog)
		if err != nil {
			return
		}
		lim := extract.Limits{MaxInput: 1 << 16, Timeout: 50 * time.Millisecond}
		_ = q.Write(context.Background(), strings.NewReader(in), limitedWriter{1 << 20}, lim, extract.Format{})
	})
}

// limitedWriter fails after n bytes, so that a program with endless
// output ends.
type limitedWriter struct{ n int }

func (w limitedWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, io.ErrShortWrite
	}
	return len(p), nil
}

func FuzzSelect(f *testing.F) {
	f.Add("a", `<a href="x">y</a>`, "text/html")
	f.Add("li:nth-child(2n+1)", `<ul><li>1<li>2<li>3</ul>`, "text/html; charset=shift_jis")
	f.Add("p > b", "<p>\xe9<b>x</b>", "text/html; charset=latin1")
	f.Add("[data-x~=y]", `<meta charset="utf-16"><i data-x="y z">`, "")
	f.Fuzz(func(t *testing.T, css, doc, ctype string) {
		s, err := extract.ParseSelector(css)
		if err != nil {
			return
		}
		for _, p := range []extract.Pick{{}, {Text: true}, {Attr: "href"}} {
			_, _ = s.Select(strings.NewReader(doc), ctype, p, extract.Limits{MaxInput: 1 << 16})
		}
	})
}
