package textui

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Progress draws a progress bar on a terminal while long work runs. It is
// safe for concurrent use.
type Progress struct {
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

// NewProgress starts a bar for work of total bytes (0 if unknown) on w,
// a terminal width columns wide. With a nil w it is inert: every method
// does nothing, so callers use it unconditionally.
func NewProgress(w io.Writer, width int, label string, total int64) *Progress {
	p := &Progress{label: label, total: total, now: time.Now, every: 100 * time.Millisecond}
	if w != nil {
		p.w, p.width, p.active = w, width, true
	}
	p.start = p.now()
	return p
}

// CountsThings makes the bar count things (such as "ports") rather than
// bytes.
func (p *Progress) CountsThings(unit string) { p.unit = unit }

// Add records n more bytes done and redraws at most ten times a second.
func (p *Progress) Add(n int64) {
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
func (p *Progress) Finish() {
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
func (p *Progress) line(done int64, now time.Time) string {
	secs := now.Sub(p.start).Seconds()
	format := FormatBytes
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

// FormatBytes prints a byte count in binary units: 1.5 KiB, 3.0 GiB.
func FormatBytes(n int64) string {
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
