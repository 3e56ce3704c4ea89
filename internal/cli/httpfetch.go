package cli

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/httpwire"
	"github.com/netkit-dev/netkit/internal/textui"
)

// writeTiming prints the phases of one exchange: each phase's own time
// and the time since the start; "-" for phases that did not happen.
func writeTiming(w io.Writer, u *url.URL, t httpwire.Timing, reused bool) {
	conn := "new connection"
	if reused {
		conn = "reused connection"
	}
	tb := textui.NewTable("phase", "took", "at").AlignRight(1, 2)
	for _, p := range t.Phases(u, reused) {
		if p.Skipped {
			tb.Add(p.Name, "-", "-")
		} else {
			tb.Add(p.Name, fmtMS(p.Took), fmtMS(p.At))
		}
	}
	tb.Add("total", "", fmtMS(t.Total))
	fmt.Fprintf(w, "timing of %s (%s):\n", u, conn)
	tb.Write(w, textui.Style{})
}

func fmtMS(d time.Duration) string {
	return fmt.Sprintf("%.3f ms", float64(d.Microseconds())/1000)
}

// requestBody reads -d and --data-binary.
func requestBody(a *app, o httpOptions) (io.Reader, error) {
	switch {
	case len(o.data) > 0 && o.dataBinary != "":
		return nil, usageError("-d and --data-binary exclude each other")
	case len(o.data) > 0:
		return strings.NewReader(strings.Join(o.data, "&")), nil
	case o.dataBinary == "@-":
		b, err := io.ReadAll(a.io.In)
		if err != nil {
			return nil, fmt.Errorf("reading the body from stdin: %w", err)
		}
		return bytes.NewReader(b), nil
	case strings.HasPrefix(o.dataBinary, "@"):
		f, err := os.Open(o.dataBinary[1:])
		if err != nil {
			return nil, inputError(fmt.Errorf("--data-binary: %w", err))
		}
		return f, nil
	case o.dataBinary != "":
		return strings.NewReader(o.dataBinary), nil
	}
	return nil, nil
}
