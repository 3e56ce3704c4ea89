package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// Platform describes a network operating system's command line: its
// prompts, how to turn paging off, and how to enter privileged and
// configuration modes. Every pattern is matched against the last line
// the device sent (the text after the last newline), anchored at its end.
type Platform struct {
	Name string
	// Prompt matches every prompt of the device (user, privileged and
	// configuration modes).
	Prompt *regexp.Regexp
	// Privileged matches the privileged (enable) prompt; nil where the
	// platform has no such mode.
	Privileged *regexp.Regexp
	// Paging turns the pager off for the session ("" for none); More
	// matches the pager's prompt, answered with a space when paging is on
	// anyway.
	Paging string
	More   *regexp.Regexp
	// Enable enters privileged mode, asking for a secret at
	// SecretPrompt.
	Enable       string
	SecretPrompt *regexp.Regexp
	// ConfigEnter and ConfigExit enter and leave configuration mode.
	ConfigEnter, ConfigExit string
}

// AnyMore matches the pagers of the common platforms ("--More--",
// " --More-- ", "---(more 42%)---"); a custom platform may use it.
var AnyMore = regexp.MustCompile(`(?i)(\s*-+\s*more\s*-+|---\(more( \d+%)?\)---)\s*$`)

// The prompt patterns are matched unanchored at the start, so a bound
// such as {1,63} would not limit what matches; it would only make the
// program larger (compiling the bounded forms took 3 ms of every netkit
// command's start).
var ciscoLike = Platform{
	Prompt:       regexp.MustCompile(`[\w.\-@/:]+(\([\w.\-]+\))?[>#]\s?$`),
	Privileged:   regexp.MustCompile(`[\w.\-@/:]+(\([\w.\-]+\))?#\s?$`),
	Paging:       "terminal length 0",
	More:         regexp.MustCompile(`(?i)\s*-+\s*more\s*-+\s*$`),
	Enable:       "enable",
	SecretPrompt: regexp.MustCompile(`(?i)password:\s?$`),
	ConfigEnter:  "configure terminal",
	ConfigExit:   "end",
}

// Platforms are the built-in platforms, by name.
var Platforms = map[string]Platform{
	"cisco_ios":  with(ciscoLike, "cisco_ios"),
	"cisco_nxos": with(ciscoLike, "cisco_nxos"),
	"arista_eos": with(ciscoLike, "arista_eos"),
	"juniper_junos": {
		Name:        "juniper_junos",
		Prompt:      regexp.MustCompile(`[\w.\-@]+[>#%]\s?$`),
		Paging:      "set cli screen-length 0",
		More:        regexp.MustCompile(`---\(more( \d+%)?\)---\s*$`),
		ConfigEnter: "configure",
		ConfigExit:  "exit configuration-mode",
	},
	"linux": {
		Name:   "linux",
		Prompt: regexp.MustCompile(`[\w.\-@:~/\[\] ]+[$#]\s?$`),
	},
}

func with(p Platform, name string) Platform { p.Name = name; return p }

// PlatformNames lists the built-in platforms, sorted.
func PlatformNames() []string {
	var names []string
	for n := range Platforms {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Reply is one command's exchange with a device.
type Reply struct {
	Command string    `json:"command"`
	Output  string    `json:"output"` // without the echoed command and the prompt
	Prompt  string    `json:"prompt"` // the prompt that ended it
	Start   time.Time `json:"start"`
	Seconds float64   `json:"seconds"`
}

// ErrPromptTimeout means no prompt came within the wait.
var ErrPromptTimeout = errors.New("remote: no prompt")

// Device is an interactive command line on a terminal over SSH.
type Device struct {
	Platform Platform
	// Wait bounds each command's wait for a prompt. If zero, 30s.
	Wait time.Duration
	// Settle is how long a prompt-looking last line must stay the last
	// line before it counts as the prompt: a line of output that looks
	// like a prompt is followed by its newline well within it. If zero,
	// 50ms.
	Settle time.Duration

	w      io.WriteCloser
	mu     sync.Mutex
	buf    []byte // received, not yet consumed
	err    error  // the read side's end
	signal chan struct{}
	closer func() error
}

// OpenDevice starts a shell on a terminal, waits for the first prompt
// and turns paging off.
func (c *Client) OpenDevice(ctx context.Context, p Platform) (*Device, error) {
	s, err := c.NewSession()
	if err != nil {
		return nil, err
	}
	if err := s.RequestPty("vt100", 200, 511, nil); err != nil {
		s.Close()
		return nil, fmt.Errorf("remote: %s: terminal refused: %w", c.Target, err)
	}
	w, err := s.StdinPipe()
	if err != nil {
		s.Close()
		return nil, err
	}
	r, err := s.StdoutPipe()
	if err != nil {
		s.Close()
		return nil, err
	}
	if err := s.Shell(); err != nil {
		s.Close()
		return nil, fmt.Errorf("remote: %s: shell: %w", c.Target, err)
	}
	d := NewDevice(r, w, p)
	d.closer = s.Close
	if err := d.Start(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// NewDevice drives a command line read from r and written to w; call
// [Device.Start] before the first command.
func NewDevice(r io.Reader, w io.WriteCloser, p Platform) *Device {
	d := &Device{Platform: p, w: w, signal: make(chan struct{}, 1)}
	go d.read(r)
	return d
}

func (d *Device) read(r io.Reader) {
	b := make([]byte, 32<<10)
	for {
		n, err := r.Read(b)
		d.mu.Lock()
		d.buf = append(d.buf, b[:n]...)
		if err != nil {
			d.err = err
		}
		d.mu.Unlock()
		select {
		case d.signal <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

// Start waits for the first prompt and turns paging off.
func (d *Device) Start(ctx context.Context) error {
	if _, _, err := d.until(ctx, "", d.Platform.Prompt); err != nil {
		return err
	}
	if d.Platform.Paging != "" {
		if _, err := d.Send(ctx, d.Platform.Paging); err != nil {
			return err
		}
	}
	return nil
}

// Close ends the session.
func (d *Device) Close() error {
	d.w.Close()
	if d.closer != nil {
		return d.closer()
	}
	return nil
}

// Send sends one command and returns its output, read up to the next
// prompt; a pager's prompt on the way is answered with a space.
func (d *Device) Send(ctx context.Context, cmd string) (Reply, error) {
	return d.send(ctx, cmd, d.Platform.Prompt)
}

func (d *Device) send(ctx context.Context, cmd string, until *regexp.Regexp) (Reply, error) {
	start := time.Now()
	if strings.ContainsAny(cmd, "\r\n") {
		return Reply{}, fmt.Errorf("remote: command %q: one line at a time", cmd)
	}
	d.mu.Lock()
	d.buf = nil // what came before this command is not its output
	d.mu.Unlock()
	if _, err := io.WriteString(d.w, cmd+"\n"); err != nil {
		return Reply{}, err
	}
	out, prompt, err := d.until(ctx, cmd, until)
	r := Reply{Command: cmd, Output: out, Prompt: prompt, Start: start, Seconds: time.Since(start).Seconds()}
	return r, err
}

// Enable enters privileged mode, giving secret when asked for one.
func (d *Device) Enable(ctx context.Context, secret string) ([]Reply, error) {
	p := d.Platform
	if p.Enable == "" || p.Privileged == nil {
		return nil, fmt.Errorf("remote: %s has no enable mode", p.Name)
	}
	either := regexp.MustCompile("(?:" + p.SecretPrompt.String() + ")|(?:" + p.Prompt.String() + ")")
	r, err := d.send(ctx, p.Enable, either)
	if err != nil {
		return []Reply{r}, err
	}
	replies := []Reply{r}
	if p.SecretPrompt.MatchString(r.Prompt) {
		r2, err := d.sendSecret(ctx, secret)
		replies = append(replies, r2)
		if err != nil {
			return replies, err
		}
		r = r2
	}
	if !p.Privileged.MatchString(r.Prompt) {
		return replies, fmt.Errorf("remote: enable: still at %q (a wrong secret?)", r.Prompt)
	}
	return replies, nil
}

func (d *Device) sendSecret(ctx context.Context, secret string) (Reply, error) {
	start := time.Now()
	d.mu.Lock()
	d.buf = nil
	d.mu.Unlock()
	if _, err := io.WriteString(d.w, secret+"\n"); err != nil {
		return Reply{}, err
	}
	out, prompt, err := d.until(ctx, "", d.Platform.Prompt)
	return Reply{Command: "(secret)", Output: out, Prompt: prompt, Start: start, Seconds: time.Since(start).Seconds()}, err
}

// Configure enters configuration mode, sends each command, and leaves.
func (d *Device) Configure(ctx context.Context, cmds []string) ([]Reply, error) {
	p := d.Platform
	if p.ConfigEnter == "" {
		return nil, fmt.Errorf("remote: %s has no configuration mode", p.Name)
	}
	var replies []Reply
	for _, c := range append(append([]string{p.ConfigEnter}, cmds...), p.ConfigExit) {
		r, err := d.Send(ctx, c)
		replies = append(replies, r)
		if err != nil {
			return replies, err
		}
	}
	return replies, nil
}

// until reads until the last line matches prompt and stays the last
// line for Settle, answering pager prompts; the echoed command (when
// echo is set) and the prompt are cut from the output.
func (d *Device) until(ctx context.Context, echo string, prompt *regexp.Regexp) (string, string, error) {
	wait, settle := d.Wait, d.Settle
	if wait <= 0 {
		wait = 30 * time.Second
	}
	if settle <= 0 {
		settle = 50 * time.Millisecond
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	var out strings.Builder
	echoed := echo == ""
	for {
		d.mu.Lock()
		text := clean(string(d.buf))
		raw := len(d.buf)
		rerr := d.err
		d.mu.Unlock()
		if !echoed {
			// The device repeats the command first; output begins after
			// that line.
			if i := strings.Index(text, echo); i >= 0 {
				if nl := strings.IndexByte(text[i:], '\n'); nl >= 0 {
					d.consume(text, i+nl+1)
					echoed = true
					continue
				}
			}
		}
		last := text[strings.LastIndexByte(text, '\n')+1:]
		switch {
		case echoed && d.Platform.More != nil && d.Platform.More.MatchString(last):
			out.WriteString(text[:len(text)-len(last)])
			d.consume(text, len(text))
			io.WriteString(d.w, " ")
			continue
		case echoed && last != "" && prompt.MatchString(last):
			if d.settled(ctx, raw, settle) {
				out.WriteString(text[:len(text)-len(last)])
				d.consume(text, len(text))
				return strings.TrimRight(out.String(), "\n"), strings.TrimSpace(last), nil
			}
			continue
		}
		if rerr != nil {
			return out.String() + text, "", fmt.Errorf("remote: the session ended before a prompt: %w", rerr)
		}
		select {
		case <-d.signal:
		case <-deadline.C:
			return out.String() + text, "", fmt.Errorf("%w after %v; the last line was %q", ErrPromptTimeout, wait, last)
		case <-ctx.Done():
			return out.String() + text, "", ctx.Err()
		}
	}
}

// settled reports whether nothing more arrives within d: the prompt is
// really the end.
func (d *Device) settled(ctx context.Context, n int, wait time.Duration) bool {
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-d.signal:
			d.mu.Lock()
			more := len(d.buf) != n
			d.mu.Unlock()
			if more {
				return false
			}
		case <-t.C:
			return true
		case <-ctx.Done():
			return true
		}
	}
}

// consume drops the first n bytes of the cleaned text from the buffer.
// The buffer is replaced by the cleaned text's rest: cleaning is
// idempotent, so later reads see the same text.
func (d *Device) consume(text string, n int) {
	d.mu.Lock()
	rest := clean(string(d.buf))
	if strings.HasPrefix(rest, text) {
		rest = rest[n:]
	} else {
		rest = text[n:]
	}
	d.buf = []byte(rest)
	d.mu.Unlock()
}

var (
	ansi      = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]`)
	backspace = regexp.MustCompile("\x08+ *\x08*")
)

// clean turns terminal output into lines: CRLF and CR to LF, escape
// sequences and the pager's backspace-and-blank erasures dropped.
func clean(s string) string {
	s = ansi.ReplaceAllString(s, "")
	s = backspace.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "")
	return s
}

// PlatformFor returns the platform a command line names: a built-in one
// by name, or a custom one from a prompt pattern (a regular expression
// the last line must end with, as --expect-prompt takes it; with a named
// platform it replaces that platform's prompt). Pagers of a custom
// prompt are answered with AnyMore.
// Errors are *PlatformError.
func PlatformFor(name, prompt string) (Platform, error) {
	p := Platform{Name: "custom"}
	if name != "" {
		var ok bool
		if p, ok = Platforms[name]; !ok {
			return p, &PlatformError{Field: "platform", Input: name, Rule: "the platforms are " + strings.Join(PlatformNames(), ", ")}
		}
	}
	if prompt != "" {
		re, err := regexp.Compile("(?:" + prompt + `)\s?$`)
		if err != nil {
			return p, &PlatformError{Field: "prompt", Input: prompt, Rule: err.Error()}
		}
		p.Prompt = re
		if p.More == nil {
			p.More = AnyMore
		}
	}
	return p, nil
}

// PlatformError is a platform name or prompt pattern that PlatformFor
// cannot take.
type PlatformError struct {
	Field string // platform or prompt
	Input string
	Rule  string
}

func (e *PlatformError) Error() string {
	return fmt.Sprintf("remote: invalid %s %q: %s", e.Field, e.Input, e.Rule)
}

// Check reports what in the script its platform cannot do: enable mode
// or configuration mode where the platform has none, a command of more
// than one line.
func (ds *DeviceScript) Check() error {
	p := ds.Platform
	if ds.Enable && (p.Enable == "" || p.Privileged == nil) {
		return fmt.Errorf("platform %s has no enable mode", p.Name)
	}
	if ds.Configure && p.ConfigEnter == "" {
		return fmt.Errorf("platform %s has no configuration mode", p.Name)
	}
	for _, c := range ds.Commands {
		if strings.ContainsAny(c, "\r\n") {
			return fmt.Errorf("command %q: one line each", c)
		}
	}
	return nil
}
