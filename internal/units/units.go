// Package units reads the quantities netkit's commands take: a number
// with an optional K, M or G (either case), each a power of the base
// (1000 for rates, as tc and iperf3 write them; 1024 for sizes).
package units

import (
	"errors"
	"math"
	"strconv"
)

// ErrNotANumber is a quantity that does not parse, or is not finite.
var ErrNotANumber = errors.New("units: not a number")

// Parse reads s: "1500", "64K", "1.5G". It returns the value in the
// units' base unit; the caller decides what range is valid.
func Parse(s string, base float64) (float64, error) {
	mult := 1.0
	if s != "" {
		switch s[len(s)-1] {
		case 'k', 'K':
			mult, s = base, s[:len(s)-1]
		case 'm', 'M':
			mult, s = base*base, s[:len(s)-1]
		case 'g', 'G':
			mult, s = base*base*base, s[:len(s)-1]
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	v *= mult
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, ErrNotANumber
	}
	return v, nil
}
