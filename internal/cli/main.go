// Package cli is the netkit command line: one cobra command per file, each
// with an options struct, a constructor that builds the command, and a run
// function that takes the options. The commands are thin: they parse flags
// and arguments, call netkit's packages, and render the result as a table
// for people or as JSON with --json.
//
// Every command exits 0 on success, 1 when the operation failed and 2 on bad
// usage or bad input, and writes errors to stderr as
// "netkit: what failed (what to do)".
package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/spf13/cobra"
)

// Main runs netkit with the process's arguments and streams and returns
// the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, os.Args[1:], SystemIO())
}

// Run runs netkit with args (without the program name) against the given
// streams and returns the exit code.
func Run(ctx context.Context, args []string, stdio *IO) int {
	a := &app{io: stdio}
	root := newRoot(a)
	root.SetArgs(nmapOutputArgs(negativeIndexArgs(args)))
	root.SetIn(stdio.In)
	root.SetOut(stdio.Out)
	root.SetErr(stdio.Err)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	ee, ok := errors.AsType[*exitError](err)
	if !ok && !a.ran {
		// Cobra itself refused the command line: an unknown command or
		// flag, a bad flag value, the wrong number of arguments.
		ee = &exitError{code: exitUsage, err: err, showUsage: true}
	}
	if ee != nil && ee.err == nil {
		return ee.code
	}
	fmt.Fprintln(stdio.Err, message(err))
	if ee != nil && ee.showUsage {
		// One line of hint, not the whole usage: the error is what matters.
		fmt.Fprintf(stdio.Err, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	if ee != nil {
		return ee.code
	}
	return exitCode(err)
}

// negativeIndexArgs lets "netkit ip nth NET -1" mean index -1, not a
// flag -1: it puts "--" before a negative number that follows "ip nth".
func negativeIndexArgs(args []string) []string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--" {
			return args
		}
		if args[i] == "ip" && args[i+1] == "nth" {
			for j := i + 2; j < len(args); j++ {
				if args[j] == "--" {
					return args
				}
				if len(args[j]) > 1 && args[j][0] == '-' && isAllDigits(args[j][1:]) {
					out := append(append(append([]string{}, args[:j]...), "--"), args[j:]...)
					return out
				}
			}
			return args
		}
	}
	return args
}

// nmapOutputArgs lets "netkit scan ... -oG FILE" (nmap's spelling, which
// a one-letter flag cannot have) mean --grepable FILE; "-oGFILE" too.
func nmapOutputArgs(args []string) []string {
	scan := false
	for i, a := range args {
		switch {
		case a == "--":
			return args
		case a == "scan":
			scan = true
		case scan && strings.HasPrefix(a, "-oG"):
			out := append([]string{}, args...)
			if a == "-oG" {
				out[i] = "--grepable"
			} else {
				out[i] = "--grepable=" + a[len("-oG"):]
			}
			return out
		}
	}
	return args
}

// app is the state that every command shares: the streams and the global
// flags.
type app struct {
	io      *IO
	json    bool
	timeout time.Duration
	verbose int
	color   string
	ran     bool // a command's run function was entered
}

// outStyle returns the colours for stdout.
func (a *app) outStyle() textui.Style {
	return textui.Style{On: textui.ColorEnabled(a.color, a.io.OutTTY, a.io.getenv)}
}

// errStyle returns the colours for stderr.
func (a *app) errStyle() textui.Style {
	return textui.Style{On: textui.ColorEnabled(a.color, a.io.ErrTTY, a.io.getenv)}
}

// logger logs to stderr: warnings by default, info with -v, debug with -vv.
func (a *app) logger() *slog.Logger {
	level := slog.LevelWarn
	switch {
	case a.verbose >= 2:
		level = slog.LevelDebug
	case a.verbose == 1:
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(a.io.Err, &slog.HandlerOptions{Level: level}))
}

// runE wraps a command's run function: it applies --timeout to the
// context and marks that the command line parsed, so that errors from here
// on are the command's own rather than usage errors.
func (a *app) runE(fn func(ctx context.Context, cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		a.ran = true
		switch a.color {
		case "auto", "always", "never":
		default:
			return usageError("invalid --color %q: use auto, always or never", a.color)
		}
		if a.timeout < 0 {
			return usageError("invalid --timeout %s: it may not be negative", a.timeout)
		}
		ctx := cmd.Context()
		if a.timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, a.timeout)
			defer cancel()
		}
		return fn(ctx, cmd, args)
	}
}

// Argument checks that report usage errors (exit 2).

func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError("%s takes %s; got %d argument%s", cmd.CommandPath(), what, len(args), plural(len(args)))
		}
		return nil
	}
}

func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usageError("%s needs %s", cmd.CommandPath(), what)
		}
		return nil
	}
}

func maxArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usageError("%s takes %s; got %d arguments", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError("%s takes no arguments; got %q", cmd.CommandPath(), strings.Join(args, " "))
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func isAllDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
