package remote

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Command is what to run on the remote host.
type Command struct {
	// Line is the command line, run by the user's shell there. OpenSSH
	// joins its arguments with spaces; [JoinArgs] does the same. If
	// empty, the login shell is started.
	Line string
	// Stdin, Stdout and Stderr are the remote command's streams. A nil
	// Stdin sends end of file at once; nil outputs are discarded.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// PTY asks for a terminal (ssh -t) of the given size and TERM; the
	// remote side then merges stderr into stdout, as ssh -t does.
	PTY           bool
	Term          string
	Width, Height int
	// Env is sent as environment requests; servers accept only the
	// names their AcceptEnv lists.
	Env map[string]string
}

// JoinArgs joins a command's arguments as ssh does: with spaces, so
// that the remote shell splits them again.
func JoinArgs(args []string) string { return strings.Join(args, " ") }

// ExitError reports a remote command that did not exit with status 0.
type ExitError struct {
	Status int    // the exit status; 255 when killed by a signal
	Signal string // the signal's name, without "SIG", if one killed it
}

func (e *ExitError) Error() string {
	if e.Signal != "" {
		return fmt.Sprintf("remote: command killed by signal %s", e.Signal)
	}
	return fmt.Sprintf("remote: command exited with status %d", e.Status)
}

// Run runs cmd in a new session and waits for it. It returns nil when
// the command exits with status 0, an [*ExitError] when it exits with
// another, and any other error when the session fails. Cancelling ctx
// signals the command (TERM) and closes the session.
func (c *Client) Run(ctx context.Context, cmd Command) error {
	s, err := c.NewSession()
	if err != nil {
		return fmt.Errorf("remote: %s: new session: %w", c.Target, err)
	}
	defer s.Close()
	for k, v := range cmd.Env {
		s.Setenv(k, v) // refused names are not an error, as with ssh SendEnv
	}
	if cmd.PTY {
		term, w, h := cmd.Term, cmd.Width, cmd.Height
		if term == "" {
			term = "xterm"
		}
		if w <= 0 || h <= 0 {
			w, h = 80, 24
		}
		if err := s.RequestPty(term, h, w, ssh.TerminalModes{ssh.ECHO: 1}); err != nil {
			return fmt.Errorf("remote: %s: terminal refused: %w", c.Target, err)
		}
	}
	// The session copies output in goroutines of its own, which may
	// outlive a cancelled Run (sshd keeps the channel while the command
	// lives): gates stop them writing to the caller's writers once Run
	// has returned.
	stdout, stderr := &gate{w: orDiscard(cmd.Stdout)}, &gate{w: orDiscard(cmd.Stderr)}
	defer stdout.close()
	defer stderr.close()
	s.Stdout, s.Stderr = stdout, stderr
	// Stdin is copied by hand so that a Stdin that never ends (a
	// terminal) does not hold Wait after the command exits.
	in, err := s.StdinPipe()
	if err != nil {
		return err
	}
	if cmd.Line == "" {
		err = s.Shell()
	} else {
		err = s.Start(cmd.Line)
	}
	if err != nil {
		return fmt.Errorf("remote: %s: start: %w", c.Target, err)
	}
	// End of file is sent after the command starts: sshd drops one that
	// comes before.
	if cmd.Stdin != nil {
		go func() {
			io.Copy(in, cmd.Stdin)
			in.Close()
		}()
	} else {
		in.Close()
	}
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		// sshd keeps the channel until the command exits, so Wait is
		// left to end with the session or the connection.
		s.Signal(ssh.SIGTERM)
		s.Close()
		return ctx.Err()
	}
	var ee *ssh.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee):
		if ee.Signal() != "" {
			return &ExitError{Status: 255, Signal: ee.Signal()}
		}
		return &ExitError{Status: ee.ExitStatus()}
	case isExitMissing(err):
		return fmt.Errorf("remote: %s: the session ended without an exit status", c.Target)
	}
	return fmt.Errorf("remote: %s: %w", c.Target, err)
}

func isExitMissing(err error) bool {
	var em *ssh.ExitMissingError
	return errors.As(err, &em)
}

// gate passes writes on until it is closed, and drops them after.
type gate struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
}

func (g *gate) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return len(p), nil
	}
	return g.w.Write(p)
}

func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// Result is one host's outcome in [RunAll].
type Result struct {
	Host     string        `json:"host"`
	Exit     int           `json:"exit"` // the exit status; -1 when it did not run
	Stdout   string        `json:"stdout"`
	Stderr   string        `json:"stderr"`
	Duration time.Duration `json:"-"`
	Seconds  float64       `json:"duration_s"`
	Error    string        `json:"error,omitempty"` // why it did not run or finish
	// Transcript is each command's exchange, when a DeviceScript ran.
	Transcript []Reply `json:"transcript,omitempty"`
}

// DeviceScript is what [RunAll] does on a device's command line instead
// of running one command.
type DeviceScript struct {
	Platform Platform
	// Secret, if set, enters privileged mode first.
	Secret string
	// Enable enters privileged mode first (with Secret when asked).
	Enable bool
	// Commands are sent one by one; in configuration mode with
	// Configure.
	Commands  []string
	Configure bool
	// Wait bounds each command's wait for its prompt. If zero, 30s.
	Wait time.Duration
}

// Run drives the script on a connected client.
func (ds *DeviceScript) Run(ctx context.Context, c *Client) ([]Reply, error) {
	d, err := c.OpenDevice(ctx, ds.Platform)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	d.Wait = ds.Wait
	var all []Reply
	if ds.Enable {
		r, err := d.Enable(ctx, ds.Secret)
		all = append(all, r...)
		if err != nil {
			return all, err
		}
	}
	if ds.Configure {
		r, err := d.Configure(ctx, ds.Commands)
		return append(all, r...), err
	}
	for _, cmd := range ds.Commands {
		r, err := d.Send(ctx, cmd)
		all = append(all, r)
		if err != nil {
			return all, err
		}
	}
	return all, nil
}

// OK reports whether the command ran and exited with status 0.
func (r Result) OK() bool { return r.Exit == 0 && r.Error == "" }

// RunAllOptions are the settings of [RunAll].
type RunAllOptions struct {
	Options
	// Parallel is how many hosts are worked on at once. If zero, 10.
	Parallel int
	// Timeout bounds each host, connection and command together. If
	// zero, none beyond the context.
	Timeout time.Duration
	// MaxOutput bounds each host's kept stdout and stderr; what is beyond
	// it is dropped and said in Error. If zero, 16 MiB.
	MaxOutput int
	// Stdin, if set, is given to every host's command.
	Stdin []byte
	// Device, if set, drives each host's command line instead of running
	// the command line given to RunAll.
	Device *DeviceScript
}

// RunAll runs the command line on every host, Parallel at a time, and
// calls each with every host's result as it completes (from one goroutine
// at a time). It returns the number of hosts that failed.
func RunAll(ctx context.Context, hosts []string, line string, o RunAllOptions, each func(Result)) int {
	par := o.Parallel
	if par <= 0 {
		par = 10
	}
	limit := o.MaxOutput
	if limit <= 0 {
		limit = 16 << 20
	}
	var mu sync.Mutex
	failed := 0
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for _, h := range hosts {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			r := Result{Host: h, Exit: -1, Error: ctx.Err().Error()}
			mu.Lock()
			failed++
			each(r)
			mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r := runOne(ctx, h, line, o, limit)
			mu.Lock()
			defer mu.Unlock()
			if !r.OK() {
				failed++
			}
			each(r)
		}()
	}
	wg.Wait()
	return failed
}

func runOne(ctx context.Context, host, line string, o RunAllOptions, limit int) Result {
	start := time.Now()
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	r := Result{Host: host, Exit: -1}
	finish := func() Result {
		r.Duration = time.Since(start)
		r.Seconds = r.Duration.Seconds()
		return r
	}
	c, err := Dial(ctx, host, o.Options)
	if err != nil {
		r.Error = err.Error()
		return finish()
	}
	defer c.Close()
	if o.Device != nil {
		r.Transcript, err = o.Device.Run(ctx, c)
		for _, t := range r.Transcript {
			r.Stdout += t.Output + "\n"
		}
		if err != nil {
			r.Error = err.Error()
		} else {
			r.Exit = 0
		}
		return finish()
	}
	stdout := &capped{max: limit}
	stderr := &capped{max: limit}
	cmd := Command{Line: line, Stdout: stdout, Stderr: stderr}
	if o.Stdin != nil {
		cmd.Stdin = bytes.NewReader(o.Stdin)
	}
	err = c.Run(ctx, cmd)
	r.Stdout, r.Stderr = stdout.String(), stderr.String()
	var ee *ExitError
	switch {
	case err == nil:
		r.Exit = 0
	case errors.As(err, &ee):
		r.Exit = ee.Status
	case errors.Is(err, context.DeadlineExceeded):
		r.Error = fmt.Sprintf("timed out after %v", o.Timeout)
	default:
		r.Error = err.Error()
	}
	if stdout.dropped+stderr.dropped > 0 && r.Error == "" {
		r.Error = fmt.Sprintf("output beyond %d bytes dropped (%d bytes)", limit, stdout.dropped+stderr.dropped)
	}
	return finish()
}

// capped keeps the first max bytes written to it and counts the rest.
type capped struct {
	bytes.Buffer
	max     int
	dropped int64
}

func (c *capped) Write(p []byte) (int, error) {
	n := len(p)
	if room := c.max - c.Len(); room < len(p) {
		c.dropped += int64(len(p) - max(room, 0))
		p = p[:max(room, 0)]
	}
	c.Buffer.Write(p)
	return n, nil
}

// ReadHosts reads a hosts file: one destination a line, as [Dial] takes
// them; blank lines and # comments are skipped. A line that is not a
// destination is an error naming its number.
func ReadHosts(r io.Reader, name string) ([]string, error) {
	var hosts []string
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if _, _, _, err := ParseDestination(line); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		hosts = append(hosts, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return hosts, nil
}
