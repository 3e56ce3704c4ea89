package scan

import (
	"testing"
	"time"
)

// TestSleepFor: a worker whose window is full sleeps until an answer or
// the first deadline; it must not poll in a loop (it once did, spending
// two cores on a scan of filtered ports).
func TestSleepFor(t *testing.T) {
	now := time.Unix(1000, 0)
	tests := []struct {
		name  string
		pause time.Duration
		first time.Time
		want  time.Duration
	}{
		{"full window, a deadline far off", 0, now.Add(time.Second), 100 * time.Millisecond},
		{"full window, a deadline near", 0, now.Add(30 * time.Millisecond), 30 * time.Millisecond},
		{"full window, a deadline passed", 0, now.Add(-time.Second), time.Millisecond},
		{"nothing in flight, no pause", -1, time.Time{}, 100 * time.Millisecond},
		{"a rate pause", 5 * time.Millisecond, now.Add(time.Second), 5 * time.Millisecond},
		{"a short rate pause", 20 * time.Microsecond, time.Time{}, time.Millisecond},
	}
	for _, tt := range tests {
		if got := sleepFor(tt.pause, tt.first, now); got != tt.want {
			t.Errorf("%s: sleepFor = %s, want %s", tt.name, got, tt.want)
		}
	}
}
