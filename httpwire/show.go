package httpwire

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// WireTrace returns a Trace that shows the exchange on w, as curl -v
// does: "*" lines for events, ">" lines for the bytes sent and "<" lines
// for the response heads. Bytes that are not printable ASCII appear as
// \xNN and a line that ends in a bare LF ends in \n, so that the bytes on
// the wire can be read back exactly. A request body is shown up to
// maxBody bytes per connection (64 KiB if zero), saying so when cut.
func WireTrace(w io.Writer, maxBody int) *Trace {
	if maxBody <= 0 {
		maxBody = 64 << 10
	}
	var mu sync.Mutex
	put := func(s string) {
		mu.Lock()
		io.WriteString(w, s)
		mu.Unlock()
	}
	shown := 0
	return &Trace{
		Connected: func(remote net.Addr, reused bool) {
			how := "connected to"
			if reused {
				how = "reusing the connection to"
			}
			put(fmt.Sprintf("* %s %s\n", how, remote))
			shown = 0
		},
		Sent: func(p []byte) {
			if shown >= maxBody {
				return
			}
			if shown+len(p) > maxBody {
				put(WireLines(">", p[:maxBody-shown]) + fmt.Sprintf("* (body shown up to %d bytes; the rest is sent but not shown)\n", maxBody))
				shown = maxBody
				return
			}
			shown += len(p)
			put(WireLines(">", p))
		},
		Received:   func(head []byte) { put(WireLines("<", head)) },
		Redirected: func(r Redirect) { put(fmt.Sprintf("* following %d to %s\n", r.StatusCode, r.To)) },
	}
}

// WireLines renders bytes as lines that each start with prefix and a
// space: CRLF line ends are dropped, a bare LF shows as \n, a backslash
// as \\, and bytes outside printable ASCII (tab aside) as \xNN, so that no
// byte from the network can move a terminal's cursor.
func WireLines(prefix string, p []byte) string {
	var b strings.Builder
	for len(p) > 0 {
		line := p
		end := ""
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			line, p = p[:i+1], p[i+1:]
			if bytes.HasSuffix(line, []byte("\r\n")) {
				line = line[:len(line)-2]
			} else {
				line, end = line[:len(line)-1], `\n`
			}
		} else {
			p = nil // the end of a piece of body without a line end
		}
		b.WriteString(prefix + " ")
		for _, c := range line {
			switch {
			case c == '\\':
				b.WriteString(`\\`)
			case c >= 0x20 && c < 0x7f || c == '\t':
				b.WriteByte(c)
			default:
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		}
		b.WriteString(end + "\n")
	}
	return b.String()
}

// Phase is one step of an exchange, as Timing.Phases lists them.
type Phase struct {
	Name string
	// Took is the phase's own time; At the time from the start to its
	// end. Skipped phases (DNS for an address, TLS for http, all of the
	// connection's on a reused one) have Skipped set.
	Took, At time.Duration
	Skipped  bool
}

// Phases lists the phases of the exchange with u: dns, connect, tls,
// request sent, first byte and transfer.
func (t Timing) Phases(u *url.URL, reused bool) []Phase {
	_, literal := netip.ParseAddr(u.Hostname())
	skip := map[string]bool{
		"dns":     reused || literal == nil,
		"connect": reused,
		"tls":     reused || u.Scheme != "https",
	}
	var out []Phase
	prev := time.Duration(0)
	for _, p := range []struct {
		name string
		at   time.Duration
	}{{"dns", t.DNS}, {"connect", t.Connect}, {"tls", t.TLS}, {"request sent", t.Sent}, {"first byte", t.FirstByte}, {"transfer", t.Total}} {
		if skip[p.name] {
			out = append(out, Phase{Name: p.name, Skipped: true})
			continue
		}
		out = append(out, Phase{Name: p.name, Took: p.at - prev, At: p.at})
		prev = p.at
	}
	return out
}

// ParseHeaderFlags reads header arguments as curl's -H takes them:
// "Name: value" adds a field, "Name:" removes a field the client would
// send by default (returned in omit, for Request.Omit), and "Name;" sends
// the field with an empty value. Names and values are validated.
func ParseHeaderFlags(hs []string) (h Header, omit []string, err error) {
	for _, s := range hs {
		if name, ok := strings.CutSuffix(s, ";"); ok && !strings.Contains(name, ":") {
			h.Add(name, "")
			continue
		}
		name, value, ok := strings.Cut(s, ":")
		if !ok {
			return nil, nil, fmt.Errorf("invalid header %q: a header is 'Name: value'", s)
		}
		value = strings.Trim(value, " \t")
		if value == "" {
			omit = append(omit, name)
			continue
		}
		h.Add(name, value)
	}
	if err := h.Validate(); err != nil {
		return nil, nil, err
	}
	return h, omit, nil
}

// Output is where a body is saved. A regular file appears whole or not
// at all: the body is written to a temporary file beside it and renamed
// into place by Commit. A special file (/dev/null, a FIFO, a terminal) is
// written as it is.
type Output struct {
	f    *os.File
	path string
	tmp  bool
}

// CreateOutput opens path for a body.
func CreateOutput(path string) (*Output, error) {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() && !fi.IsDir() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		return &Output{f: f, path: path}, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part*")
	if err != nil {
		return nil, err
	}
	return &Output{f: f, path: path, tmp: true}, nil
}

// Write writes to the file.
func (o *Output) Write(p []byte) (int, error) { return o.f.Write(p) }

// Commit closes the file and, for a regular file, renames it into place.
func (o *Output) Commit() error {
	if err := o.f.Close(); err != nil {
		o.Abort()
		return err
	}
	if o.tmp {
		if err := os.Rename(o.f.Name(), o.path); err != nil {
			os.Remove(o.f.Name())
			return err
		}
		o.tmp = false
	}
	return nil
}

// Abort closes the file and removes what was written of a regular file.
// After Commit it does nothing.
func (o *Output) Abort() {
	o.f.Close()
	if o.tmp {
		os.Remove(o.f.Name())
		o.tmp = false
	}
}
