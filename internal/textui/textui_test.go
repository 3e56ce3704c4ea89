package textui

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestTable(t *testing.T) {
	tb := NewTable("NAME", "COUNT", "NOTE").AlignRight(1)
	tb.Add("a", "1", "x")
	tb.Add("longer", "1000", "")
	tb.Add("ü", "22", "y")
	var b bytes.Buffer
	if err := tb.Write(&b, Style{}); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"NAME    COUNT  NOTE\n" +
		"a           1  x\n" +
		"longer   1000\n" +
		"ü          22  y\n"
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	tb.Write(&b, Style{On: true})
	if !strings.HasPrefix(b.String(), "\x1b[1mNAME\x1b[0m") {
		t.Errorf("coloured header = %q", strings.SplitN(b.String(), "\n", 2)[0])
	}
}

func TestColorEnabled(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	tests := []struct {
		mode string
		tty  bool
		env  func(string) string
		want bool
	}{
		{"auto", true, env(), true},
		{"auto", false, env(), false},
		{"auto", true, env("NO_COLOR", "1"), false},
		{"auto", true, env("TERM", "dumb"), false},
		{"always", false, env("NO_COLOR", "1"), true},
		{"never", true, env(), false},
	}
	for _, tt := range tests {
		if got := ColorEnabled(tt.mode, tt.tty, tt.env); got != tt.want {
			t.Errorf("ColorEnabled(%q, tty=%v) = %v, want %v", tt.mode, tt.tty, got, tt.want)
		}
	}
}

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	clock := time.Unix(0, 0)
	p := NewProgress(&b, 80, "get", 1000)
	p.now = func() time.Time { return clock }
	p.start = clock
	clock = clock.Add(time.Second)
	p.Add(500)
	line := b.String()
	if !strings.HasPrefix(line, "\rget [") || !strings.Contains(line, " 50% 500 B/1000 B  500 B/s") {
		t.Errorf("progress line = %q", line)
	}
	p.Add(100) // within 100ms of the last draw: no redraw
	if b.String() != line {
		t.Errorf("progress redrew within its interval: %q", b.String())
	}
	p.Finish()
	if !strings.HasSuffix(b.String(), "\r") {
		t.Errorf("Finish did not return to column 0: %q", b.String())
	}

	// Not a terminal: nothing is drawn, and counting still works.
	b.Reset()
	q := NewProgress(nil, 0, "get", 10)
	q.Add(5)
	q.Finish()
	if b.Len() != 0 || q.done.Load() != 5 {
		t.Errorf("inert progress wrote %q, counted %d", b.String(), q.done.Load())
	}
}

func TestFormatBytes(t *testing.T) {
	for in, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 3 << 30: "3.0 GiB"} {
		if got := FormatBytes(in); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", in, got, want)
		}
	}
}

// TestReferenceUpToDate fails when docs/commands.md differs from what the
// commands' help generates.

func TestStyle(t *testing.T) {
	on, off := Style{On: true}, Style{}
	for _, f := range []struct {
		name string
		fn   func(Style, string) string
		code string
	}{
		{"bold", Style.Bold, "1"}, {"dim", Style.Dim, "2"}, {"red", Style.Red, "31"},
		{"green", Style.Green, "32"}, {"yellow", Style.Yellow, "33"}, {"cyan", Style.Cyan, "36"},
	} {
		if got, want := f.fn(on, "x"), "\x1b["+f.code+"mx\x1b[0m"; got != want {
			t.Errorf("%s on = %q, want %q", f.name, got, want)
		}
		if got := f.fn(off, "x"); got != "x" {
			t.Errorf("%s off = %q", f.name, got)
		}
		if got := f.fn(on, ""); got != "" {
			t.Errorf("%s of empty text = %q", f.name, got)
		}
	}
}

func TestWriteBars(t *testing.T) {
	var b bytes.Buffer
	WriteBars(&b, []Bar{{"goroutines", 50, "50/s"}, {"eventloop", 100, "100/s"}}, 10, Style{})
	want := "goroutines █████      50/s\neventloop  ██████████ 100/s\n"
	if b.String() != want {
		t.Errorf("bars:\n%q\nwant\n%q", b.String(), want)
	}
}

func TestWrap(t *testing.T) {
	got := Wrap("one two three four\n\nfive", 12, "  ")
	if want := "  one two\n  three four\n\n  five"; got != want {
		t.Errorf("Wrap = %q, want %q", got, want)
	}
}
