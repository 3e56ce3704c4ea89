package figures

import (
	"encoding/xml"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func panel() Panel {
	return Panel{
		Title: "authoritative", Metric: "server CPU per query", Unit: "µs", LowerIsBetter: true, Reference: "nsd",
		Contenders: []Contender{
			{Name: "netkit", Rounds: []float64{6, 5, 7, 100}},
			{Name: "nsd", Command: "nsd -d -c <dir>/nsd.conf", Rounds: []float64{4, 5, 5}},
		},
	}
}

func TestMedianAndRatio(t *testing.T) {
	p := panel()
	if m := p.Contenders[0].Median(); m != 6.5 {
		t.Errorf("median of 6, 5, 7, 100 = %v, want 6.5", m)
	}
	if m := p.Contenders[1].Median(); m != 5 {
		t.Errorf("median of 4, 5, 5 = %v, want 5", m)
	}
	if r := p.Ratio(p.Contenders[0]); r != 1.3 {
		t.Errorf("lower-is-better ratio = %v, want 1.3", r)
	}
	p.LowerIsBetter = false
	if r := p.Ratio(p.Contenders[0]); r != 5/6.5 {
		t.Errorf("higher-is-better ratio = %v, want %v", r, 5/6.5)
	}
	p.Reference = "unbound"
	if r := p.Ratio(p.Contenders[0]); r != 0 {
		t.Errorf("ratio to a missing reference = %v, want 0", r)
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*File)
		want string
	}{
		{"no name", func(f *File) { f.Comparison = "" }, "no name"},
		{"no panels", func(f *File) { f.Panels = nil }, "no panels"},
		{"no unit", func(f *File) { f.Panels[0].Unit = "" }, "a title and a unit"},
		{"bad reference", func(f *File) { f.Panels[0].Reference = "knot" }, `"knot" is not a contender`},
		{"no rounds", func(f *File) { f.Panels[0].Contenders[1].Rounds = nil }, "nsd has no rounds"},
		{"negative", func(f *File) { f.Panels[0].Contenders[0].Rounds[2] = -1 }, "the figure -1"},
		{"other load short", func(f *File) { f.Panels[0].Contenders[1].Other = []float64{0.1} }, "nsd has 3 rounds but the other load of 1"},
		{"other load negative", func(f *File) { f.Panels[0].Contenders[1].Other = []float64{0.1, -0.5, 0} }, "the figure -0.5"},
	} {
		f := File{Comparison: "dns", Panels: []Panel{panel()}}
		tc.edit(&f)
		err := f.Check()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Check() = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	if err := (File{Comparison: "dns", Panels: []Panel{panel()}}).Check(); err != nil {
		t.Errorf("a good file: %v", err)
	}
}

func TestAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dns.figures.json")
	if err := Append(path, "bench/dns.sh", panel()); err != nil {
		t.Fatal(err)
	}
	second := panel()
	second.Title = "unthrottled"
	if err := Append(path, "ignored", second); err != nil {
		t.Fatal(err)
	}
	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Comparison != "dns" || f.Command != "bench/dns.sh" || len(f.Panels) != 2 || f.Panels[1].Title != "unthrottled" {
		t.Errorf("after two appends: %+v", f)
	}
	if _, err := time.Parse(time.RFC3339, f.Date); err != nil {
		t.Errorf("date %q: %v", f.Date, err)
	}
	if got := f.Panels[0].Contenders[0].Rounds; len(got) != 4 || got[3] != 100 {
		t.Errorf("rounds came back as %v", got)
	}
	bad := panel()
	bad.Reference = "none"
	if err := Append(path, "", bad); err == nil {
		t.Error("Append took a panel whose reference is not a contender")
	}
	if err := Save(filepath.Join(t.TempDir(), "x.figures.json"), "", bad); err == nil {
		t.Error("Save took a panel whose reference is not a contender")
	}
	saved := filepath.Join(t.TempDir(), "echo-peers.figures.json")
	if err := Save(saved, "bench/echo.sh", panel()); err != nil {
		t.Fatal(err)
	}
	if f, err := Read(saved); err != nil || f.Comparison != "echo-peers" || len(f.Panels) != 1 {
		t.Errorf("Save, then Read: %+v, %v", f, err)
	}
}

func TestSVG(t *testing.T) {
	f := File{Comparison: "dns", Command: "bench/dns.sh 5 4", Date: "2026-12-03", Panels: []Panel{panel(), panel()}}
	svg := string(SVG(f))
	d := xml.NewDecoder(strings.NewReader(svg))
	var rects, circles int
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "rect":
				rects++
			case "circle":
				circles++
			}
		}
	}
	// A background, then a bar per contender per panel; a dot per round.
	if rects != 1+4 || circles != 2*(4+3) {
		t.Errorf("%d rects and %d circles, want 5 and 14", rects, circles)
	}
	if strings.Contains(svg, "other load") {
		t.Errorf("the chart speaks of other load that was not recorded")
	}
	f.Panels[1].Contenders[1].Other = []float64{0.05, 0.21, 0}
	svg = string(SVG(f))
	for _, want := range []string{"6.50 µs  (1.30x)", "nsd -d -c &lt;dir&gt;/nsd.conf", "lower is better", "other load at most 0.21 cores"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the chart lacks %q", want)
		}
	}
}
