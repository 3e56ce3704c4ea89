package ipset

import "errors"

// Aggregator merges ranges that arrive sorted by their first address, and
// hands each merged range on as soon as a gap shows that it is complete,
// so sorted input of any length aggregates in constant memory. IPv4 and
// IPv6 ranges may interleave; each family must be sorted.
type Aggregator struct {
	// Emit receives each merged range, in order within each family.
	Emit func(Range)

	have4, have6 bool
	cur4         span[u32]
	cur6         span[u128]
}

// ErrUnsorted is returned by Aggregator.Add for a range that starts before
// the one before it.
var ErrUnsorted = errors.New("ipset: input is not sorted")

// Add takes the next range.
func (g *Aggregator) Add(r Range) error {
	if !r.IsValid() {
		return errors.New("ipset: invalid range")
	}
	if r.from.Is4() {
		x := v4span(r)
		switch {
		case !g.have4:
			g.cur4, g.have4 = x, true
		case x.lo < g.cur4.lo:
			return ErrUnsorted
		case g.cur4.hi == maxU32 || x.lo <= g.cur4.hi+1:
			g.cur4.hi = max(g.cur4.hi, x.hi)
		default:
			g.emit4()
			g.cur4 = x
		}
		return nil
	}
	x := v6span(r)
	switch {
	case !g.have6:
		g.cur6, g.have6 = x, true
	case x.lo.less(g.cur6.lo):
		return ErrUnsorted
	case g.cur6.hi == maxU128 || !g.cur6.hi.addOne().less(x.lo):
		if g.cur6.hi.less(x.hi) {
			g.cur6.hi = x.hi
		}
	default:
		g.emit6()
		g.cur6 = x
	}
	return nil
}

func (g *Aggregator) emit4() {
	g.Emit(Range{u128{0, uint64(g.cur4.lo)}.addr(true), u128{0, uint64(g.cur4.hi)}.addr(true)})
}

func (g *Aggregator) emit6() { g.Emit(Range{g.cur6.lo.addr(false), g.cur6.hi.addr(false)}) }

// Flush emits the ranges still open: IPv4, then IPv6.
func (g *Aggregator) Flush() {
	if g.have4 {
		g.emit4()
		g.have4 = false
	}
	if g.have6 {
		g.emit6()
		g.have6 = false
	}
}
