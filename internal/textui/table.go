package textui

import (
	"io"
	"strings"
	"unicode/utf8"
)

// Table prints rows in aligned columns, as ls -l or ip -br do.
type Table struct {
	header []string
	rows   [][]string
	right  map[int]bool // columns aligned to the right (numbers)
}

// NewTable starts a table with a header row (none if empty).
func NewTable(header ...string) *Table { return &Table{header: header} }

// Add appends a row.
func (t *Table) Add(cells ...string) { t.rows = append(t.rows, cells) }

// AlignRight aligns the given columns (from 0) to the right, as numbers
// are.
func (t *Table) AlignRight(cols ...int) *Table {
	if t.right == nil {
		t.right = map[int]bool{}
	}
	for _, c := range cols {
		t.right[c] = true
	}
	return t
}

// Write prints the table; the header is bold on a terminal. The last
// column is not padded, so lines carry no trailing blanks.
func (t *Table) Write(w io.Writer, st Style) error {
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
				c = st.Bold(c)
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

// Len is the number of rows added.
func (t *Table) Len() int { return len(t.rows) }

// Bar is one row of a bar chart.
type Bar struct {
	Label string
	Value float64
	Note  string // printed after the bar, such as "41,200 req/s"
}

// WriteBars draws a horizontal bar chart, the longest bar width
// characters long.
func WriteBars(w io.Writer, bars []Bar, width int, st Style) error {
	most, label := 0.0, 0
	for _, b := range bars {
		most = max(most, b.Value)
		label = max(label, utf8.RuneCountInString(b.Label))
	}
	var out strings.Builder
	for _, b := range bars {
		n := 0
		if most > 0 {
			n = int(b.Value / most * float64(width))
		}
		out.WriteString(b.Label + strings.Repeat(" ", label-utf8.RuneCountInString(b.Label)) + " ")
		out.WriteString(st.Cyan(strings.Repeat("█", n)) + strings.Repeat(" ", width-n))
		out.WriteString(" " + b.Note + "\n")
	}
	_, err := io.WriteString(w, out.String())
	return err
}
