package proc

import (
	"errors"
	"syscall"
	"testing"
	"time"
)

func selfCPU() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// A round that spins a core for 300 ms, counted as ours, leaves other
// load near what the rest of the machine does; counted as not ours, it
// shows as most of a core.
func TestOther(t *testing.T) {
	spin := func() float64 {
		c0 := selfCPU()
		for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
		}
		return selfCPU() - c0
	}
	m := ReadMachine()
	if m.busy <= 0 {
		t.Fatalf("no busy time read from /proc/stat: %+v", m)
	}
	ours := spin()
	counted := m.Other(ours)
	m = ReadMachine()
	spin()
	uncounted := m.Other(0)
	// The spin alone is a whole core: uncounted, other load includes it.
	if uncounted < 0.7 || uncounted-counted < 0.5 {
		t.Errorf("other load %.2f cores with the spin counted as ours, %.2f without: want the second at least 0.7 and 0.5 above the first", counted, uncounted)
	}
}

func TestSteady(t *testing.T) {
	runs := 0
	other, err := Steady("quiet", func() (float64, error) { runs++; return 1e6, nil })
	if err != nil || runs != 1 || other != 0 {
		t.Errorf("a round that counts everything as ours: other %v, %d runs, %v; want 0, 1 run, nil", other, runs, err)
	}
	runs = 0
	_, err = Steady("busy", func() (float64, error) {
		runs++
		for end := time.Now().Add(100 * time.Millisecond); time.Now().Before(end); {
		}
		return 0, nil // the spin is not counted as ours: other work
	})
	if err != nil || runs != 3 {
		t.Errorf("a round overlapping a busy core ran %d times (%v), want 3", runs, err)
	}
	boom := errors.New("boom")
	if _, err := Steady("failing", func() (float64, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Errorf("a failing round: %v, want boom", err)
	}
}
