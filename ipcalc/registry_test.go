package ipcalc

import (
	"encoding/csv"
	"net/netip"
	"os"
	"strings"
	"testing"
)

// TestRegistryGenerated fails when zz_registry.go is older than the CSV
// files it is generated from: run go generate ./ipcalc.
func TestRegistryGenerated(t *testing.T) {
	for _, f := range []struct {
		file  string
		table []Entry
	}{{"registry/ipv4-special.csv", ipv4Special}, {"registry/ipv6-special.csv", ipv6Special}} {
		b, err := os.ReadFile(f.file)
		if err != nil {
			t.Fatal(err)
		}
		var data []string
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(line, "#") {
				data = append(data, line)
			}
		}
		rows, err := csv.NewReader(strings.NewReader(strings.Join(data, "\n"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		rows = rows[1:]
		if len(rows) != len(f.table) {
			t.Fatalf("%s has %d rows, the generated table %d: run go generate ./ipcalc", f.file, len(rows), len(f.table))
		}
		for i, r := range rows {
			if netip.MustParsePrefix(r[0]) != f.table[i].Block || r[1] != f.table[i].Name {
				t.Errorf("%s row %d (%s %s) differs from the generated table: run go generate ./ipcalc", f.file, i+2, r[0], r[1])
			}
		}
	}
	if _, snap := Registry(false); snap == "" {
		t.Error("no snapshot date")
	}
}
