package units

import (
	"math"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		base float64
		want float64
		bad  bool
	}{
		{"1500", 1024, 1500, false}, {"64K", 1024, 65536, false}, {"64k", 1024, 65536, false}, {"1.5G", 1000, 1.5e9, false},
		{"2m", 1000, 2e6, false}, {"", 1024, 0, true}, {"K", 1024, 0, true}, {"1T", 1024, 0, true}, {"NaN", 1000, 0, true}, {"1e400", 1000, 0, true}, {"1e308G", 1000, 0, true},
	} {
		got, err := Parse(tc.in, tc.base)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("Parse(%q, %g) = %g, %v", tc.in, tc.base, got, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1500", "64K", "1.5G", "", "-1m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s, 1024)
		if err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
			t.Fatalf("Parse(%q) = %g", s, v)
		}
	})
}
