// Package proc holds what the benchmark drivers share: reading a process's
// CPU time and resident memory from /proc, waiting for a TCP port to
// listen, stopping a contender, and medians.
package proc

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CPUSeconds is a process's user and system time, its waited-for
// children's included (socat's and ncat's forks, cat).
func CPUSeconds(pid int) float64 {
	user, sys := CPUTimes(pid)
	return user + sys
}

// CPUTimes is a process's user time and system time, each with its
// waited-for children's.
func CPUTimes(pid int) (user, sys float64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	v := func(i int) float64 { x, _ := strconv.ParseFloat(f[i], 64); return x / 100 } // USER_HZ
	return v(11) + v(13), v(12) + v(14)                                               // utime+cutime, stime+cstime
}

// RSSMiB is a process's resident set.
func RSSMiB(pid int) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// Listening reports whether something listens on the IPv4 TCP port, by
// reading /proc/net/tcp rather than connecting: a probe connection would be
// forwarded, or would use up a one-shot server's only connection.
func Listening(port int) bool {
	b, _ := os.ReadFile("/proc/net/tcp")
	hex := fmt.Sprintf(":%04X ", port)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 3 && strings.HasSuffix(f[1]+" ", hex) && f[3] == "0A" {
			return true
		}
	}
	return false
}

// WaitListening waits up to 10 seconds for the port to listen.
func WaitListening(port int) error {
	for range 2000 {
		if Listening(port) {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on port %d", port)
}

// Stop ends a contender: SIGTERM, then SIGKILL after 5 seconds.
func Stop(cmd *exec.Cmd) {
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// Median of v; 0 for none.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// MaxOther is how many cores of other work (neither the contender nor
// the load generator: a neighbour on the shared host, a daemon) a round
// may overlap before it is run again: on two cores, a quarter of one is
// already more than most differences a comparison measures.
const MaxOther = 0.25

// Machine is a reading of the whole machine's busy CPU time, every core's
// user, nice, system, irq, softirq and steal time from /proc/stat (a
// network namespace does not hide the host's), taken to tell how much
// else ran during a round.
type Machine struct {
	busy float64 // seconds
	at   time.Time
}

// ReadMachine reads the machine's busy time now.
func ReadMachine() Machine {
	m := Machine{at: time.Now()}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return m
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	// cpu user nice system idle iowait irq softirq steal guest guest_nice;
	// guest time is already in user.
	for i, field := range f {
		if i == 0 || i == 4 || i == 5 || i > 8 {
			continue
		}
		x, _ := strconv.ParseFloat(field, 64)
		m.busy += x / 100 // USER_HZ
	}
	return m
}

// Other is how many cores, on average since m was read, were busy with
// work other than ours, the CPU seconds of everything the round started.
func (m Machine) Other(ours float64) float64 {
	n := ReadMachine()
	wall := n.at.Sub(m.at).Seconds()
	if wall <= 0 {
		return 0
	}
	return max(0, (n.busy-m.busy-ours)/wall)
}

// Steady runs a round, which returns the CPU seconds of everything it
// started, and runs it again, at most twice more, while other work kept
// more than MaxOther cores busy during it (each repeat is logged on
// stderr with what). It returns the other load of the round it kept, the
// last; the round's own results are whatever its last run left.
func Steady(what string, round func() (ours float64, err error)) (other float64, err error) {
	for try := 1; ; try++ {
		m := ReadMachine()
		ours, err := round()
		if err != nil {
			return 0, err
		}
		other = m.Other(ours)
		if other <= MaxOther || try == 3 {
			return other, nil
		}
		fmt.Fprintf(os.Stderr, "%s: other work kept %.2f cores busy (above %.2f): running the round again\n", what, other, MaxOther)
	}
}
