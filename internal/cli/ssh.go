package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/remote"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// sshFlags are the connection flags of ssh and sftp, as OpenSSH spells
// them.
type sshFlags struct {
	o            remote.Options
	acceptNew    bool
	knownHosts   string
	passwordFile string
}

// add adds the flags; portShort is ssh's -p, or scp's -P where -p means
// something else.
func (f *sshFlags) add(cmd *cobra.Command, portShort string) {
	fl := cmd.Flags()
	fl.StringVarP(&f.o.ConfigFile, "config", "F", "", "read this ssh_config `FILE` (default ~/.ssh/config; none for no file)")
	fl.StringVarP(&f.o.User, "login", "l", "", "log in as this `USER`")
	fl.IntVarP(&f.o.Port, "port", portShort, 0, "connect to this `PORT` (default 22, or the config's Port)")
	fl.StringArrayVarP(&f.o.Identities, "identity", "i", nil, "offer this private key `FILE` (repeatable)")
	fl.StringVarP(&f.o.ProxyJump, "jump", "J", "", "connect through these jump `HOSTS`, comma-separated (none for no jump)")
	fl.DurationVar(&f.o.ConnectTimeout, "connect-timeout", 0, "give up on each connection and handshake after this long")
	fl.StringVar(&f.knownHosts, "known-hosts", "", "check host keys against this `FILE` (default ~/.ssh/known_hosts)")
	fl.BoolVar(&f.acceptNew, "accept-new", false, "add unknown hosts' keys to known_hosts (a changed key is still refused)")
	fl.BoolVar(&f.o.NoAgent, "no-agent", false, "do not ask the agent at SSH_AUTH_SOCK for keys")
	fl.StringVar(&f.passwordFile, "password-file", "", "answer password prompts from this `FILE` (else a prompt on a terminal)")
}

// options completes the flags into remote.Options.
func (f *sshFlags) options(a *app) (remote.Options, error) {
	o := f.o
	if o.Port < 0 || o.Port > 65535 {
		return o, usageError("invalid --port %d: ports are 1-65535", o.Port)
	}
	if f.knownHosts != "" {
		o.KnownHosts = []string{f.knownHosts}
	}
	if f.acceptNew {
		o.HostKeys = remote.AcceptNew
	}
	o.Notice = func(m string) { fmt.Fprintln(a.io.Err, "netkit: "+m) }
	switch {
	case f.passwordFile != "":
		pw, err := remote.ReadPasswordFile(f.passwordFile)
		if err != nil {
			return o, inputError(fmt.Errorf("--password-file: %w", err))
		}
		o.Password = pw
	case a.io.InTTY:
		// Asked on the terminal, as mail's passwords are (no variable:
		// OpenSSH reads passwords from nowhere else).
		o.Password = func(prompt string) (string, error) { return a.password("", "", prompt) }
	}
	return o, nil
}

type sshOptions struct {
	conn        sshFlags
	hostsFile   string
	parallel    int
	hostTimeout time.Duration
	tty, noTTY  bool
	noStdin     bool
	stdinAll    bool
	device      deviceFlags
	local, rem  []string
	noCommand   bool
}

func newSSHCmd(a *app) *cobra.Command {
	var o sshOptions
	cmd := &cobra.Command{
		Use:   "ssh [flags] [user@]host[:port] [--] [COMMAND...]",
		Short: "Run commands on other machines over SSH, on one host or many in parallel",
		Long: `Runs COMMAND on the host, as OpenSSH's ssh does: ~/.ssh/config is read (Host
patterns, HostName, User, Port, IdentityFile, ProxyJump, ConnectTimeout,
UserKnownHostsFile, StrictHostKeyChecking), the agent's keys and the
identity files are offered, and the host key must be in known_hosts
(hashed entries too) unless --accept-new. Passwords come only from a prompt
or --password-file. The words of COMMAND are joined with spaces for the
remote shell, as ssh joins them. On one host the remote exit status is
netkit's exit status; a failure to connect or log in exits 1, bad input 2.

With several hosts before --, or --hosts FILE, the command runs on each,
--parallel at a time, each bounded by --host-timeout; each host's output is
printed when it finishes (with --json, one NDJSON document per host: host,
exit, stdout, stderr, duration_s, error), then a summary of the failures;
exit 1 if any host failed. Stdin goes to every host only with --stdin.

With --platform (` + "`" + `cisco_ios, cisco_nxos, arista_eos, juniper_junos, linux` + "`" + `) or
--expect-prompt REGEX, each word after the host is a command typed at the
device's command line on a terminal: netkit waits for the prompt at the end
of the last line after the echoed command (a prompt-looking line inside the
output does not end it), turns paging off or answers --More--, enters
enable mode with --enable (the secret from NETKIT_ENABLE_SECRET or
--secret-file) and configuration mode with --configure. --json gives a
transcript per host: each command, its output, the prompt and timings.`,
		Example: `  netkit ssh box uptime
  netkit ssh -J bastion ann@10.1.2.3 -- df -h /
  netkit ssh --hosts web.txt --parallel 20 --json -- systemctl is-active nginx
  netkit ssh web1 web2 web3 -- uname -r
  netkit ssh --platform cisco_ios --hosts routers.txt --json -- "show version" "show ip interface brief"
  NETKIT_ENABLE_SECRET=... netkit ssh --platform cisco_ios --enable --configure r1 -- "interface Gi0/1" "description uplink"`,
		GroupID: groupApplication,
		Args:    cobra.ArbitraryArgs,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			// Flags end at the first host, as with ssh, so the command's
			// own flags are its; the hosts end at "--", or after one.
			var hosts, command []string
			if dash := cmd.ArgsLenAtDash(); dash >= 0 {
				hosts, command = args[:dash], args[dash:]
			} else if i := slices.Index(args, "--"); i >= 0 {
				hosts, command = args[:i], args[i+1:]
			} else if len(args) > 0 {
				hosts, command = args[:1], args[1:]
			}
			return runSSH(ctx, a, o, hosts, command)
		}),
	}
	o.conn.add(cmd, "p")
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.StringVar(&o.hostsFile, "hosts", "", "run on every host in this `FILE` (one a line, # comments)")
	f.IntVar(&o.parallel, "parallel", 10, "with several hosts, work on this many at once")
	f.DurationVar(&o.hostTimeout, "host-timeout", 0, "with several hosts, give up on each after this long (0: no limit)")
	f.BoolVarP(&o.tty, "tty", "t", false, "ask for a terminal on the remote side")
	f.BoolVarP(&o.noTTY, "no-tty", "T", false, "never ask for a terminal (the default unless -t, or no command on a terminal)")
	f.BoolVarP(&o.noStdin, "no-stdin", "n", false, "do not send stdin")
	f.BoolVar(&o.stdinAll, "stdin", false, "with several hosts, read stdin once and give it to every host")
	f.StringArrayVarP(&o.local, "local", "L", nil, "forward `[BIND:]PORT:HOST:HOSTPORT` here to HOST:HOSTPORT from the server (repeatable)")
	f.StringArrayVarP(&o.rem, "remote", "R", nil, "forward `[BIND:]PORT:HOST:HOSTPORT` on the server to HOST:HOSTPORT from here (repeatable)")
	f.BoolVarP(&o.noCommand, "no-command", "N", false, "run no command: forward ports until interrupted")
	o.device.add(f)
	return cmd
}

func runSSH(ctx context.Context, a *app, o sshOptions, hosts []string, command []string) error {
	line := remote.JoinArgs(command)
	if o.hostsFile != "" {
		f, err := os.Open(o.hostsFile)
		if err != nil {
			return inputError(fmt.Errorf("--hosts: %w", err))
		}
		more, err := remote.ReadHosts(f, o.hostsFile)
		f.Close()
		if err != nil {
			return inputError(err)
		}
		hosts = append(hosts, more...)
	}
	if len(hosts) == 0 {
		return usageError("netkit ssh needs a host: netkit ssh [user@]host[:port] [--] COMMAND")
	}
	for _, h := range hosts {
		if _, _, _, err := remote.ParseDestination(h); err != nil {
			return inputError(err)
		}
	}
	if o.parallel < 1 {
		return usageError("invalid --parallel %d: at least 1", o.parallel)
	}
	ro, err := o.conn.options(a)
	if err != nil {
		return err
	}
	script, err := o.device.script(a, command)
	if err != nil {
		return err
	}
	if len(hosts) > 1 || a.json || o.hostsFile != "" || script != nil {
		if len(o.local)+len(o.rem) > 0 || o.noCommand {
			return usageError("-L, -R and -N work with one host, without --json or a device")
		}
		if line == "" {
			return usageError("with several hosts, --json or a device, give a COMMAND")
		}
		return runSSHMany(ctx, a, o, ro, hosts, line, script)
	}
	c, err := remote.Dial(ctx, hosts[0], ro)
	if err != nil {
		return sshError(err)
	}
	defer c.Close()
	if err := sshForwards(ctx, a, c, o); err != nil {
		return err
	}
	if o.noCommand {
		if line != "" {
			return usageError("-N runs no command, but %q was given", line)
		}
		<-ctx.Done()
		return nil
	}
	rc := remote.Command{Line: line, Stdout: a.io.Out, Stderr: a.io.Err}
	if !o.noStdin {
		rc.Stdin = a.io.In
	}
	if (o.tty || (line == "" && a.io.InTTY)) && !o.noTTY {
		rc.PTY, rc.Term = true, os.Getenv("TERM")
		if in, ok := a.io.In.(*os.File); ok && a.io.InTTY {
			rc.Width, rc.Height, _ = term.GetSize(int(in.Fd()))
			if st, err := term.MakeRaw(int(in.Fd())); err == nil {
				defer term.Restore(int(in.Fd()), st)
			}
		}
	}
	err = c.Run(ctx, rc)
	var ee *remote.ExitError
	if errors.As(err, &ee) {
		if ee.Signal != "" {
			fmt.Fprintf(a.io.Err, "netkit: the remote command was killed by signal %s\n", ee.Signal)
		}
		return &exitError{code: ee.Status}
	}
	return sshError(err)
}

// sshError adds what to do to the errors people meet first.
func sshError(err error) error {
	switch {
	case err == nil:
		return nil
	case strings.Contains(err.Error(), "unable to authenticate"):
		return fmt.Errorf("%w (no key or password was accepted: give -i KEY, load the key into ssh-agent, or --password-file)", err)
	}
	return err
}
