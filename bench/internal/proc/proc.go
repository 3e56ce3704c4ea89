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
