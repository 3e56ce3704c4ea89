package netcat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
)

// Program is a program to run for each client, as inetd runs one: Path
// (a path, or a name looked up on $PATH) with Args, without a shell.
type Program struct {
	Path string
	Args []string
	// Stderr receives the program's standard error. If nil, it is
	// discarded.
	Stderr io.Writer
}

// Check reports whether the program can be found.
func (p Program) Check() error {
	if _, err := exec.LookPath(p.Path); err != nil {
		return fmt.Errorf("netcat: program %q: no such program (give a path, or a name on $PATH)", p.Path)
	}
	return nil
}

// RunProgram runs p with c as its stdin and stdout and closes c. A TCP or
// Unix socket is handed over as it is, so the program reads and writes the
// socket itself and sees its half-close, as under inetd; other connections
// are copied through pipes.
func RunProgram(ctx context.Context, c net.Conn, p Program) error {
	defer c.Close()
	cmd := exec.CommandContext(ctx, p.Path, p.Args...)
	cmd.Stderr = p.Stderr
	if fc, ok := c.(interface{ File() (*os.File, error) }); ok {
		f, err := fc.File()
		if err != nil {
			return fmt.Errorf("netcat: run %s: %w", p.Path, err)
		}
		defer f.Close()
		f.Fd() // puts the descriptor in blocking mode, as programs expect
		cmd.Stdin, cmd.Stdout = f, f
		c.Close() // the child holds the socket now
	} else {
		cmd.Stdin, cmd.Stdout = c, c
	}
	if err := cmd.Run(); err != nil {
		if ee, ok := errors.AsType[*exec.ExitError](err); ok {
			return fmt.Errorf("netcat: %s: %v", p.Path, ee)
		}
		return fmt.Errorf("netcat: run %s: %w", p.Path, err)
	}
	return nil
}
