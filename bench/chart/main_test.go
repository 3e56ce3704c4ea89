package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netkit-dev/netkit/bench/internal/figures"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "dns.figures.json")
	p := figures.Panel{Title: "authoritative", Metric: "CPU per query", Unit: "µs", LowerIsBetter: true, Reference: "nsd",
		Contenders: []figures.Contender{{Name: "netkit", Rounds: []float64{6, 6.2, 5.8}}, {Name: "nsd", Rounds: []float64{5, 5, 5}}}}
	if err := figures.Write(good, figures.File{Comparison: "dns", Command: "bench/dns.sh", Panels: []figures.Panel{p}}); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{good}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if svg, err := os.ReadFile(filepath.Join(dir, "dns.svg")); err != nil || !bytes.HasPrefix(svg, []byte("<svg")) {
		t.Errorf("dns.svg: %v, %.40q", err, svg)
	}
	if !strings.Contains(out.String(), "netkit       3    6.00  5.80  6.20          1.20") {
		t.Errorf("summary:\n%s", out.String())
	}
	bad := filepath.Join(dir, "bad.figures.json")
	os.WriteFile(bad, []byte(`{"comparison":"x","panels":[{"title":"t","unit":"s","reference":"a","contenders":[{"name":"a","rounds":[]}]}]}`), 0o644)
	if code := run([]string{bad}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "a has no rounds") {
		t.Errorf("malformed figures: exit %d, %s", code, errb.String())
	}
	if code := run([]string{filepath.Join(dir, "dns.json")}, &out, &errb); code != 2 {
		t.Errorf("a name without .figures.json: exit %d", code)
	}
}
