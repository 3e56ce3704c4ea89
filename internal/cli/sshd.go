package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/remote"
	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"
)

type sshdOptions struct {
	listen, hostKey, clientKeyOut, knownHostsOut string
	authorized                                   []string
	noExec                                       bool
}

func newSSHDCmd(a *app) *cobra.Command {
	var o sshdOptions
	cmd := &cobra.Command{
		Use:   "sshd",
		Short: "A small SSH server for tests and the tour: commands, and SFTP in the current directory",
		Long: `Serves SSH on --listen (loopback by default) to the keys in
--authorized-keys, or to a key made now and written to --client-key-out:
exec requests run with /bin/sh -c in the current directory, and the sftp
subsystem starts there (not a jail: absolute paths reach the whole file
system, as the user running netkit sshd). --known-hosts-out writes the
host key's known_hosts line, so that clients can check it strictly. It is
not sshd: no passwords, no shells, no forwarding, no privilege separation.
Runs until interrupted.`,
		Example: `  netkit sshd -l 127.0.0.1:2222 --client-key-out key --known-hosts-out known_hosts &
  netkit ssh -i key --known-hosts known_hosts -p 2222 127.0.0.1 -- uname -a`,
		GroupID: groupApplication,
		Args:    noArgs,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return runSSHD(ctx, a, o)
		}),
	}
	f := cmd.Flags()
	f.StringVarP(&o.listen, "listen", "l", "127.0.0.1:2222", "listen on this `ADDRESS` (port 0: any free port)")
	f.StringArrayVar(&o.authorized, "authorized-keys", nil, "accept the keys in this `FILE` (authorized_keys format; repeatable)")
	f.StringVar(&o.clientKeyOut, "client-key-out", "", "make a client key, accept it, and write its private key to this `FILE`")
	f.StringVar(&o.knownHostsOut, "known-hosts-out", "", "write the host key's known_hosts line to this `FILE`")
	f.StringVar(&o.hostKey, "host-key", "", "the host's private key `FILE` (default: one made now)")
	f.BoolVar(&o.noExec, "no-exec", false, "refuse commands: SFTP only")
	return cmd
}

func runSSHD(ctx context.Context, a *app, o sshdOptions) error {
	e, err := parseEndpoint(o.listen)
	if err != nil {
		return err
	}
	if e.Scheme != endpoint.TCP && e.Scheme != endpoint.TCP4 && e.Scheme != endpoint.TCP6 {
		return usageError("invalid --listen %q: SSH is served over TCP", o.listen)
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	srv := &remote.Server{SFTPRoot: wd}
	if !o.noExec {
		srv.Exec = remote.ShellExec
	}
	for _, p := range o.authorized {
		b, err := os.ReadFile(p)
		if err != nil {
			return inputError(fmt.Errorf("--authorized-keys: %w", err))
		}
		keys, err := remote.ReadAuthorizedKeys(b, p)
		if err != nil {
			return inputError(err)
		}
		srv.AuthorizedKeys = append(srv.AuthorizedKeys, keys...)
	}
	if o.hostKey != "" {
		b, err := os.ReadFile(o.hostKey)
		if err != nil {
			return inputError(fmt.Errorf("--host-key: %w", err))
		}
		if srv.HostKey, err = ssh.ParsePrivateKey(b); err != nil {
			return inputError(fmt.Errorf("--host-key %s: %w", o.hostKey, err))
		}
	}
	if o.clientKeyOut != "" {
		signer, pemKey, err := remote.NewKey()
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.clientKeyOut, pemKey, 0o600); err != nil {
			return err
		}
		srv.AuthorizedKeys = append(srv.AuthorizedKeys, signer.PublicKey())
	}
	if len(srv.AuthorizedKeys) == 0 {
		return usageError("no key would be accepted: give --authorized-keys FILE or --client-key-out FILE")
	}
	ln, err := endpoint.Listen(ctx, e)
	if err != nil {
		return fmt.Errorf("listen %s: %w", e, err)
	}
	if o.knownHostsOut != "" {
		line, err := srv.KnownHostsLine(ln.Addr().String())
		if err != nil {
			ln.Close()
			return err
		}
		if err := os.WriteFile(o.knownHostsOut, []byte(line+"\n"), 0o644); err != nil {
			ln.Close()
			return err
		}
	}
	fmt.Fprintf(a.io.Err, "netkit: serving SSH on %s (commands and SFTP in %s)\n", ln.Addr(), wd)
	return srv.Serve(ctx, ln)
}
