package rudp

import (
	"bytes"
	"testing"
)

// Writes are packed into segments of mss bytes whatever their sizes, and
// come out in order; an empty queue gives an empty segment (a bare FIN).
func TestSegQueuePacks(t *testing.T) {
	var q segQueue
	var want []byte
	for i, n := range []int{3, 10, 1, 25, 7} {
		b := bytes.Repeat([]byte{byte('a' + i)}, n)
		want = append(want, b...)
		q.push(b, 8)
	}
	if q.n != len(want) {
		t.Fatalf("queue holds %d bytes, want %d", q.n, len(want))
	}
	var got []byte
	for q.n > 0 {
		s := q.pop(8)
		if len(s.data) != min(8, len(want)-len(got)) {
			t.Fatalf("segment of %d bytes at offset %d, want full ones of 8 and a short last", len(s.data), len(got))
		}
		got = append(got, s.data...)
		freeSegment(s)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("popped %q, want %q", got, want)
	}
	if s := q.pop(8); len(s.data) != 0 || s.fin || s.sends != 0 {
		t.Fatalf("pop of an empty queue gave %+v, want an empty new segment", s)
	}
}
