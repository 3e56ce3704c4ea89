package rudp

import (
	"bytes"
	"testing"
)

// TestAdjacent: datagrams built one after another in one buffer go to
// the kernel as they lie; any others are not taken for a run.
func TestAdjacent(t *testing.T) {
	arena := make([]byte, 0, 64)
	var bufs [][]byte
	for _, s := range []string{"first", "second", "third"} {
		start := len(arena)
		arena = append(arena, s...)
		bufs = append(bufs, arena[start:])
	}
	if got := adjacent(bufs, 16); !bytes.Equal(got, []byte("firstsecondthird")) {
		t.Fatalf("adjacent datagrams: %q", got)
	}
	if got := adjacent([][]byte{bufs[0], bufs[2]}, 10); got != nil {
		t.Fatalf("datagrams apart taken for a run: %q", got)
	}
	if got := adjacent([][]byte{[]byte("first"), []byte("second")}, 11); got != nil {
		t.Fatalf("separate buffers taken for a run: %q", got)
	}
}
