// Package figures is the one format every peer comparison in bench/ writes
// its raw per-round figures in, and the SVG chart drawn from it.
//
// A comparison (the scan, DNS, HTTP, forwarding, echo benchmarks) is a File
// of Panels; a Panel is one metric measured for several contenders, each
// with the figure of every round, so a reader can see the spread behind a
// median. bench/chart draws them; make bench-peers regenerates them all.
// Python drivers write the same JSON by hand: keep the field names stable.
package figures

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// File is one comparison.
type File struct {
	Comparison string  `json:"comparison"` // scan, dns, http, ...
	Command    string  `json:"command"`    // the script that measured it
	Date       string  `json:"date"`       // RFC 3339, when it was written
	Panels     []Panel `json:"panels"`
}

// Panel is one metric for several contenders.
type Panel struct {
	Title         string      `json:"title"`           // "authoritative, 50,000 queries/s"
	Metric        string      `json:"metric"`          // "server CPU per query"
	Unit          string      `json:"unit"`            // "µs"
	LowerIsBetter bool        `json:"lower_is_better"` // CPU and time: true; throughput: false
	Reference     string      `json:"reference"`       // the contender the ratios are to
	Contenders    []Contender `json:"contenders"`
}

// Contender is one contender's figures in a panel.
type Contender struct {
	Name    string    `json:"name"`
	Command string    `json:"command,omitempty"` // exact command and version, where known
	Rounds  []float64 `json:"rounds"`
	// Other is, for each round, how many cores other work kept busy
	// meanwhile (bench/internal/proc.Machine): neither the contender nor
	// the load generator. Rounds above proc.MaxOther were run again.
	Other []float64 `json:"other_cores,omitempty"`
}

// MaxOther is the most other load any of c's rounds overlapped, in
// cores (0 when it was not recorded).
func (c Contender) MaxOther() float64 {
	m := 0.0
	for _, x := range c.Other {
		m = max(m, x)
	}
	return m
}

// Median is the median of c's rounds (0 with none).
func (c Contender) Median() float64 {
	v := slices.Clone(c.Rounds)
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// Ratio is how many times better the reference is than c, as the README
// quotes it: c's median over the reference's for a lower-is-better metric,
// the reference's over c's otherwise. Above 1, c is behind. It is 0 when
// the panel has no such reference or a median is 0.
func (p Panel) Ratio(c Contender) float64 {
	i := slices.IndexFunc(p.Contenders, func(r Contender) bool { return r.Name == p.Reference })
	if i < 0 {
		return 0
	}
	ref, m := p.Contenders[i].Median(), c.Median()
	if ref == 0 || m == 0 {
		return 0
	}
	if p.LowerIsBetter {
		return m / ref
	}
	return ref / m
}

// Check reports the first way f is malformed: a panel without a title or
// unit, a reference that names no contender, a contender without rounds,
// or a figure that is not a finite, non-negative number.
func (f File) Check() error {
	if f.Comparison == "" {
		return errors.New("the comparison has no name")
	}
	if len(f.Panels) == 0 {
		return fmt.Errorf("%s: no panels", f.Comparison)
	}
	for _, p := range f.Panels {
		if p.Title == "" || p.Unit == "" {
			return fmt.Errorf("%s: a panel needs a title and a unit (%q, %q)", f.Comparison, p.Title, p.Unit)
		}
		if !slices.ContainsFunc(p.Contenders, func(c Contender) bool { return c.Name == p.Reference }) {
			return fmt.Errorf("%s: %s: the reference %q is not a contender", f.Comparison, p.Title, p.Reference)
		}
		for _, c := range p.Contenders {
			if len(c.Rounds) == 0 {
				return fmt.Errorf("%s: %s: %s has no rounds", f.Comparison, p.Title, c.Name)
			}
			if len(c.Other) > 0 && len(c.Other) != len(c.Rounds) {
				return fmt.Errorf("%s: %s: %s has %d rounds but the other load of %d", f.Comparison, p.Title, c.Name, len(c.Rounds), len(c.Other))
			}
			for _, x := range append(slices.Clone(c.Rounds), c.Other...) {
				if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
					return fmt.Errorf("%s: %s: %s has the figure %v", f.Comparison, p.Title, c.Name, x)
				}
			}
		}
	}
	return nil
}

// Read reads and checks a File.
func Read(path string) (File, error) {
	var f File
	b, err := os.ReadFile(path)
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Check(); err != nil {
		return f, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Write writes f to path as indented JSON.
func Write(path string, f File) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Save writes panels to path as a new File: the comparison is named
// after the file (dns.figures.json: dns), dated now, and checked first.
func Save(path, command string, panels ...Panel) error {
	f := File{Comparison: name(path), Command: command, Date: now(), Panels: panels}
	if err := f.Check(); err != nil {
		return err
	}
	return Write(path, f)
}

// Append adds panels to the File at path, creating it as Save does when
// it does not exist, so that a script running several measurements
// gathers them in one file. Scripts remove the file first.
func Append(path, command string, panels ...Panel) error {
	f, err := Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		f, err = File{Comparison: name(path), Command: command}, nil
	}
	if err != nil {
		return err
	}
	f.Date = now()
	f.Panels = append(f.Panels, panels...)
	if err := f.Check(); err != nil {
		return err
	}
	return Write(path, f)
}

func name(path string) string { return strings.TrimSuffix(filepath.Base(path), ".figures.json") }

func now() string { return time.Now().UTC().Format(time.RFC3339) }

// SVG draws f: a block per panel, a bar per contender at its median, a dot
// per round over it, and the median and the ratio to the reference as
// text. It needs no script and no fonts beyond sans-serif.
func SVG(f File) []byte {
	const (
		width    = 760
		labelW   = 170 // contender names
		barMax   = 380 // the longest bar
		rowH     = 18
		panelGap = 16
		headH    = 34
	)
	var b strings.Builder
	y := 30
	var body strings.Builder
	for _, p := range f.Panels {
		top := 0.0
		for _, c := range p.Contenders {
			for _, x := range c.Rounds {
				top = max(top, x)
			}
		}
		if top == 0 {
			top = 1
		}
		better := "higher is better"
		if p.LowerIsBetter {
			better = "lower is better"
		}
		fmt.Fprintf(&body, `<text x="10" y="%d" font-size="12" font-weight="bold">%s</text>`, y+12, esc(p.Title))
		other := ""
		if o := slices.MaxFunc(p.Contenders, func(a, b Contender) int { return cmp.Compare(a.MaxOther(), b.MaxOther()) }); len(o.Other) > 0 {
			other = fmt.Sprintf("; other load at most %.2f cores", o.MaxOther())
		}
		fmt.Fprintf(&body, `<text x="10" y="%d" fill="#555">%s, %s (%s); ratios to %s, above 1 is behind it%s</text>`, y+26, esc(p.Metric), esc(p.Unit), better, esc(p.Reference), other)
		y += headH
		for i, c := range p.Contenders {
			m := c.Median()
			fill := "#9db4cf"
			if i == 0 {
				fill = "#4e79a7"
			}
			w := m / top * barMax
			fmt.Fprintf(&body, `<text x="%d" y="%d" text-anchor="end">%s</text>`, labelW-6, y+13, esc(c.Name))
			fmt.Fprintf(&body, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s</title></rect>`, labelW, y+3, w, rowH-6, fill, esc(c.Command))
			for _, x := range c.Rounds {
				fmt.Fprintf(&body, `<circle cx="%.1f" cy="%d" r="2.2" fill="#222"/>`, labelW+x/top*barMax, y+rowH/2)
			}
			label := Num(m) + " " + p.Unit
			if r := p.Ratio(c); r != 0 && c.Name != p.Reference {
				label += fmt.Sprintf("  (%.2fx)", r)
			}
			fmt.Fprintf(&body, `<text x="%d" y="%d">%s</text>`, labelW+barMax+8, y+13, esc(label))
			y += rowH
		}
		y += panelGap
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`, width, y)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`)
	fmt.Fprintf(&b, `<text x="10" y="18" font-size="14" font-weight="bold">%s</text>`, esc(f.Comparison+": "+f.Command+"  "+f.Date))
	b.WriteString(body.String())
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// Num prints a figure with three significant digits or more, never in
// exponent form.
func Num(x float64) string {
	switch {
	case x >= 1000:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	case x >= 1:
		return fmt.Sprintf("%.2f", x)
	default:
		return fmt.Sprintf("%.3g", x)
	}
}

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

func esc(s string) string { return escaper.Replace(s) }
