package cli

import (
	"io"
	"os"

	"golang.org/x/term"
)

// IO is where a command reads and writes. Commands never touch os.Stdin,
// os.Stdout or os.Stderr directly, so tests can run them against buffers.
type IO struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer

	// InTTY, OutTTY and ErrTTY report whether each stream is a terminal.
	InTTY, OutTTY, ErrTTY bool

	// Getenv reads the environment. If nil, os.Getenv.
	Getenv func(string) string
}

// SystemIO returns the process's own standard streams.
func SystemIO() *IO {
	return &IO{
		In:     os.Stdin,
		Out:    os.Stdout,
		Err:    os.Stderr,
		InTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		Getenv: os.Getenv,
	}
}

func (s *IO) getenv(k string) string {
	if s.Getenv == nil {
		return os.Getenv(k)
	}
	return s.Getenv(k)
}

// errWidth returns the width of the terminal on stderr, or 80.
func (s *IO) errWidth() int {
	if f, ok := s.Err.(*os.File); ok && s.ErrTTY {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 20 {
			return w
		}
	}
	return 80
}
