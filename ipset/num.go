package ipset

// The set algorithms are written once, for IPv4 addresses as u32 and IPv6
// addresses as u128, through this constraint. Keeping IPv4 in 32 bits
// keeps a million IPv4 ranges in 8 MB.
type num[T any] interface {
	comparable
	less(T) bool
	addOne() T
	subOne() T
}

type u32 uint32

func (a u32) less(b u32) bool { return a < b }
func (a u32) addOne() u32     { return a + 1 }
func (a u32) subOne() u32     { return a - 1 }

// span is an inclusive range lo..hi. The fields are in the order hi, lo so
// that on little-endian machines an IPv4 span, read as a uint64, is
// lo<<32 | hi: sorting those numbers sorts spans by start, then end (see
// sortV4).
type span[T num[T]] struct{ hi, lo T }

// cmpSpan orders spans by start, then by end.
func cmpSpan[T num[T]](a, b span[T]) int {
	switch {
	case a.lo.less(b.lo):
		return -1
	case b.lo.less(a.lo):
		return 1
	case a.hi.less(b.hi):
		return -1
	case b.hi.less(a.hi):
		return 1
	}
	return 0
}

// mergeSorted merges spans sorted by start, in place: overlapping and
// adjacent spans become one.
func mergeSorted[T num[T]](s []span[T], max T) []span[T] {
	if len(s) == 0 {
		return s
	}
	out := s[:1]
	for _, x := range s[1:] {
		last := &out[len(out)-1]
		// Adjacent or overlapping: x starts at or before last.hi+1.
		if last.hi == max || !last.hi.addOne().less(x.lo) {
			if last.hi.less(x.hi) {
				last.hi = x.hi
			}
			continue
		}
		out = append(out, x)
	}
	return out
}

// union merges two normalized lists.
func union[T num[T]](a, b []span[T], max T) []span[T] {
	out := make([]span[T], 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		if j == len(b) || i < len(a) && !b[j].lo.less(a[i].lo) {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	return mergeSorted(out, max)
}

// intersect returns the spans in both normalized lists.
func intersect[T num[T]](a, b []span[T]) []span[T] {
	var out []span[T]
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		lo := a[i].lo
		if lo.less(b[j].lo) {
			lo = b[j].lo
		}
		hi := a[i].hi
		if b[j].hi.less(hi) {
			hi = b[j].hi
		}
		if !hi.less(lo) {
			out = append(out, span[T]{lo: lo, hi: hi})
		}
		if a[i].hi.less(b[j].hi) {
			i++
		} else {
			j++
		}
	}
	return out
}

// difference returns the spans of a that are not in b (both normalized).
func difference[T num[T]](a, b []span[T]) []span[T] {
	var out []span[T]
	j := 0
	for _, x := range a {
		lo := x.lo
		done := false
		for j < len(b) && b[j].hi.less(lo) {
			j++
		}
		for k := j; k < len(b) && !x.hi.less(b[k].lo); k++ {
			if lo.less(b[k].lo) {
				out = append(out, span[T]{lo: lo, hi: b[k].lo.subOne()})
			}
			if !b[k].hi.less(x.hi) {
				done = true
				break
			}
			lo = b[k].hi.addOne()
		}
		if !done {
			out = append(out, span[T]{lo: lo, hi: x.hi})
		}
	}
	return out
}

// containsSpan reports whether a is in the normalized list s.
func containsSpan[T num[T]](s []span[T], a T) bool {
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s[m].hi.less(a) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo < len(s) && !a.less(s[lo].lo)
}
