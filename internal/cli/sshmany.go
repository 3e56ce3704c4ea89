package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/remote"
	"github.com/spf13/pflag"
)

// deviceFlags turn netkit ssh into a driver of a device's command line.
type deviceFlags struct {
	platform, prompt, secretFile string
	enable, configure            bool
	wait                         time.Duration
}

func (d *deviceFlags) add(f *pflag.FlagSet) {
	f.StringVar(&d.platform, "platform", "", "drive a device's command line: "+strings.Join(remote.PlatformNames(), ", "))
	f.StringVar(&d.prompt, "expect-prompt", "", "drive a command line whose prompt matches this `REGEX` (at the line's end)")
	f.BoolVar(&d.enable, "enable", false, "with a device, enter privileged mode first")
	f.StringVar(&d.secretFile, "secret-file", "", "with --enable, read the secret from this `FILE` (else NETKIT_ENABLE_SECRET)")
	f.BoolVar(&d.configure, "configure", false, "with a device, send the commands in configuration mode")
	f.DurationVar(&d.wait, "prompt-wait", 30*time.Second, "with a device, wait this long for each prompt")
}

// script is the device script the flags ask for, or nil.
func (d *deviceFlags) script(a *app, commands []string) (*remote.DeviceScript, error) {
	if d.platform == "" && d.prompt == "" {
		if d.enable || d.configure || d.secretFile != "" {
			return nil, usageError("--enable, --configure and --secret-file drive a device: add --platform or --expect-prompt")
		}
		return nil, nil
	}
	p, err := remote.PlatformFor(d.platform, d.prompt)
	if pe, ok := errors.AsType[*remote.PlatformError](err); ok {
		flag := map[string]string{"platform": "--platform", "prompt": "--expect-prompt"}[pe.Field]
		return nil, usageError("invalid %s %q: %s", flag, pe.Input, pe.Rule)
	}
	s := &remote.DeviceScript{Platform: p, Enable: d.enable, Configure: d.configure, Commands: commands, Wait: d.wait}
	if err := s.Check(); err != nil {
		return nil, usageError("%v", err)
	}
	if d.enable {
		if s.Secret, err = a.password("NETKIT_ENABLE_SECRET", d.secretFile, "enable secret: "); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// sshForwards starts the -L and -R forwards, saying where each listens.
func sshForwards(ctx context.Context, a *app, c *remote.Client, o sshOptions) error {
	for _, fw := range []struct {
		specs []string
		flag  string
		start func(context.Context, remote.Forward) (net.Addr, error)
		where string
	}{{o.local, "-L", c.Local, "here"}, {o.rem, "-R", c.Remote, "on the server"}} {
		for _, spec := range fw.specs {
			f, err := remote.ParseForward(spec)
			if err != nil {
				return inputError(fmt.Errorf("%s: %w", fw.flag, err))
			}
			addr, err := fw.start(ctx, f)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.io.Err, "netkit: %s forwarding %s (%s) to %s\n", fw.flag, addr, fw.where, f.To)
		}
	}
	return nil
}

func runSSHMany(ctx context.Context, a *app, o sshOptions, ro remote.Options, hosts []string, line string, script *remote.DeviceScript) error {
	ra := remote.RunAllOptions{Options: ro, Parallel: o.parallel, Timeout: o.hostTimeout, Device: script}
	if o.stdinAll {
		b, err := io.ReadAll(a.io.In)
		if err != nil {
			return err
		}
		ra.Stdin = b
	}
	ra.Password = nil // no prompts from many goroutines at once
	if o.conn.passwordFile != "" {
		ra.Password = ro.Password
	}
	var failed []remote.Result
	n := remote.RunAll(ctx, hosts, line, ra, func(r remote.Result) {
		if !r.OK() {
			failed = append(failed, r)
		}
		if a.json {
			writeJSONLine(a.io.Out, r)
			return
		}
		st := a.outStyle()
		status := st.Green("OK")
		if !r.OK() {
			status = st.Red("FAILED")
		}
		fmt.Fprintf(a.io.Out, "%s %s exit %d in %.2fs\n", status, st.Bold(r.Host), r.Exit, r.Seconds)
		if script != nil {
			for _, t := range r.Transcript {
				fmt.Fprintf(a.io.Out, "  %s %s\n", st.Dim(t.Prompt), st.Bold(t.Command))
				if t.Output != "" {
					io.WriteString(a.io.Out, indentLines(t.Output, "    "))
				}
			}
			r.Stdout = ""
		}
		for _, out := range []struct{ text, prefix string }{{r.Stdout, "  "}, {r.Stderr, "  ! "}} {
			if out.text != "" {
				io.WriteString(a.io.Out, indentLines(out.text, out.prefix))
			}
		}
		if r.Error != "" {
			fmt.Fprintf(a.io.Out, "  error: %s\n", r.Error)
		}
	})
	if n == 0 {
		return nil
	}
	fmt.Fprintf(a.io.Err, "netkit: %d of %d hosts failed:", n, len(hosts))
	for _, r := range failed {
		why := r.Error
		if why == "" {
			why = fmt.Sprintf("exit %d", r.Exit)
		}
		fmt.Fprintf(a.io.Err, " %s (%s);", r.Host, why)
	}
	fmt.Fprintln(a.io.Err)
	return errSilentFailure
}
