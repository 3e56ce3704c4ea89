package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// progress draws a progress bar on stderr while long work runs. It draws
// only on a terminal; elsewhere every method does nothing, so callers use
// it unconditionally. It is safe for concurrent use.
type progress struct {
	w      io.Writer
	label  string
	total  int64 // 0 when unknown
	width  int   // terminal columns
	done   atomic.Int64
	start  time.Time
	now    func() time.Time
	every  time.Duration
	mu     sync.Mutex
	drawn  time.Time
	active bool
	unit   string // counts things (such as "probes") rather than bytes
}

// newProgress starts a bar for work of total bytes (0 if unknown). It is
// inert unless stderr is a terminal.
func (a *app) newProgress(label string, total int64) *progress {
	p := &progress{label: label, total: total, now: time.Now, every: 100 * time.Millisecond}
	if a.io.ErrTTY {
		p.w, p.width, p.active = a.io.Err, a.io.errWidth(), true
	}
	p.start = p.now()
	return p
}

// Add records n more bytes done and redraws at most ten times a second.
func (p *progress) Add(n int64) {
	d := p.done.Add(n)
	if !p.active {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := p.now(); t.Sub(p.drawn) >= p.every {
		p.drawn = t
		fmt.Fprint(p.w, "\r"+p.line(d, t))
	}
}

// Finish erases the bar so that what follows starts on a clean line.
func (p *progress) Finish() {
	if !p.active {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.w, "\r"+strings.Repeat(" ", p.width-1)+"\r")
	p.active = false
}

// line renders the bar: label, bar and percentage when the total is known,
// then bytes done and the rate.
func (p *progress) line(done int64, now time.Time) string {
	secs := now.Sub(p.start).Seconds()
	format := formatBytes
	if p.unit != "" {
		format = func(n int64) string { return fmt.Sprintf("%d %s", n, p.unit) }
	}
	rate := ""
	if secs > 0 {
		rate = "  " + format(int64(float64(done)/secs)) + "/s"
	}
	if p.total <= 0 {
		return fmt.Sprintf("%s %s%s", p.label, format(done), rate)
	}
	frac := min(float64(done)/float64(p.total), 1)
	tail := fmt.Sprintf(" %3.0f%% %s/%s%s", frac*100, format(done), format(p.total), rate)
	barWidth := p.width - len(p.label) - len(tail) - 4
	if barWidth < 10 {
		return p.label + tail
	}
	fill := int(frac * float64(barWidth))
	return p.label + " [" + strings.Repeat("=", fill) + strings.Repeat(" ", barWidth-fill) + "]" + tail
}

// formatBytes prints a byte count in binary units: 1.5 KiB, 3.0 GiB.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
