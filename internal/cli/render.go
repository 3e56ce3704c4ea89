package cli

import (
	"encoding/json"
	"io"
	"strings"
	"unicode/utf8"
)

// humanWriter is a result that knows how to print itself for people.
// Every result is also JSON-encodable, and --json prints that instead.
type humanWriter interface {
	writeHuman(w io.Writer, st style) error
}

// render prints a command's result: JSON (one indented document) with
// --json, the human form otherwise.
func (a *app) render(v humanWriter) error {
	if a.json {
		enc := json.NewEncoder(a.io.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	return v.writeHuman(a.io.Out, a.outStyle())
}

// emit prints one event of a stream: a compact JSON line (NDJSON) with
// --json, the event's human form otherwise.
func (a *app) emit(v humanWriter) error {
	if a.json {
		return json.NewEncoder(a.io.Out).Encode(v)
	}
	return v.writeHuman(a.io.Out, a.outStyle())
}

// table prints rows in aligned columns, as ls -l or ip -br do.
type table struct {
	header []string
	rows   [][]string
	right  map[int]bool // columns aligned to the right (numbers)
}

func newTable(header ...string) *table { return &table{header: header} }

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) alignRight(cols ...int) *table {
	if t.right == nil {
		t.right = map[int]bool{}
	}
	for _, c := range cols {
		t.right[c] = true
	}
	return t
}

// write prints the table; the header is bold on a terminal. The last
// column is not padded, so lines carry no trailing blanks.
func (t *table) write(w io.Writer, st style) error {
	n := len(t.header)
	for _, r := range t.rows {
		n = max(n, len(r))
	}
	width := make([]int, n)
	measure := func(r []string) {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	measure(t.header)
	for _, r := range t.rows {
		measure(r)
	}
	var out strings.Builder
	line := func(r []string, head bool) {
		var b strings.Builder
		for i := range n {
			c := ""
			if i < len(r) {
				c = r[i]
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if head {
				c = st.bold(c)
			}
			last := i == n-1
			switch {
			case t.right[i]:
				b.WriteString(pad + c)
			case last:
				b.WriteString(c)
			default:
				b.WriteString(c + pad)
			}
			if !last {
				b.WriteString("  ")
			}
		}
		out.WriteString(strings.TrimRight(b.String(), " "))
		out.WriteByte('\n')
	}
	if len(t.header) > 0 {
		line(t.header, true)
	}
	for _, r := range t.rows {
		line(r, false)
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// writeJSONLine writes v as one line of JSON.
func writeJSONLine(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}
