package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netkit-dev/netkit/bench/internal/figures"
)

func TestMedian(t *testing.T) {
	mk := func(ms ...int) []sample {
		var ss []sample
		for _, m := range ms {
			ss = append(ss, sample{Wall: time.Duration(m) * time.Millisecond})
		}
		return ss
	}
	wall := func(s sample) float64 { return s.Wall.Seconds() * 1000 }
	tests := []struct {
		in   []sample
		want float64
	}{
		{mk(5), 5},
		{mk(9, 1, 5), 5},
		{mk(4, 1, 3, 2), 2.5},
		{nil, 0},
	}
	for _, tt := range tests {
		if got := median(tt.in, wall); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseContenders(t *testing.T) {
	if _, err := parseContenders([]string{"a=true"}); err == nil {
		t.Error("one contender accepted")
	}
	if _, err := parseContenders([]string{"a=true", "b"}); err == nil || !strings.Contains(err.Error(), "NAME=COMMAND") {
		t.Errorf("missing '=': %v", err)
	}
	if _, err := parseContenders([]string{"a=true", "a=false"}); err == nil {
		t.Error("duplicate name accepted")
	}
	cs, err := parseContenders([]string{"x=echo a=b", "y=true"})
	if err != nil || cs[0].Cmd != "echo a=b" || cs[1].Name != "y" {
		t.Errorf("parseContenders = %+v, %v", cs, err)
	}
}

// TestRunMeasures compares a command that burns CPU against one that does
// nothing, and checks that the CPU ratio says so.
func TestRunMeasures(t *testing.T) {
	var out, errb bytes.Buffer
	busy := `i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done`
	code := run([]string{"-n", "3", "-warmup", "0", "-json", "idle=true", "busy=" + busy}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var sums []summary
	if err := json.Unmarshal(out.Bytes(), &sums); err != nil {
		t.Fatal(err)
	}
	if len(sums) != 2 || sums[0].Runs != 3 || sums[0].WallRatio != 1 {
		t.Fatalf("summary = %+v", sums)
	}
	if sums[1].CPUSec <= sums[0].CPUSec || sums[1].MaxRSSMiB <= 0 {
		t.Errorf("busy used %.4fs CPU, idle %.4fs; peak RSS %.1f MiB", sums[1].CPUSec, sums[0].CPUSec, sums[1].MaxRSSMiB)
	}
	if code := run([]string{"a=true", "b=exit 3"}, &out, &errb); code != 1 {
		t.Errorf("a failing command: exit %d, want 1", code)
	}
}

func TestRunFigures(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo.figures.json")
	var out, errb bytes.Buffer
	args := []string{"-n", "3", "-warmup", "0", "-figures", path, "-title", "two trues", "-script", "go test", "a=true", "b=true"}
	for range 2 {
		if code := run(args, &out, &errb); code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
	}
	f, err := figures.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Comparison != "demo" || f.Command != "go test" || len(f.Panels) != 4 {
		t.Fatalf("figures = %+v", f)
	}
	p := f.Panels[1]
	if p.Title != "two trues: CPU time" || p.Reference != "a" || len(p.Contenders) != 2 || len(p.Contenders[1].Rounds) != 3 || p.Contenders[1].Command != "true" {
		t.Errorf("CPU panel = %+v", p)
	}
	if o := p.Contenders[1].Other; len(o) != 3 {
		t.Errorf("other load of b's rounds = %v, want one figure per round", o)
	}
	if code := run([]string{"-with", "12,x", "a=true", "b=true"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `"x" is not a process ID`) {
		t.Errorf("-with 12,x: exit %d, %s", code, errb.String())
	}
	if code := run([]string{"-figures", path, "a=true", "b=true"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "give -title") {
		t.Errorf("-figures without -title: exit %d, %s", code, errb.String())
	}
}
