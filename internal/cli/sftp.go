package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/remote"
	"github.com/spf13/cobra"
)

type sftpOptions struct {
	conn      sshFlags
	recursive bool
	resume    bool
	parents   bool
	requests  int
	packet    int
}

func newSFTPCmd(a *app) *cobra.Command {
	o := &sftpOptions{}
	cmd := &cobra.Command{
		Use:   "sftp",
		Short: "Copy, list and remove files over SFTP",
		Long: `Moves files over SSH's file transfer protocol, with the connection set up as
netkit ssh does (ssh_config, keys, agent, known_hosts, ProxyJump). Remote
files are written HOST:PATH, as scp writes them. Transfers keep 64
requests in flight per file (--requests), write into NAME.netkit-part and
rename it when whole, so nothing partial is left under the final name;
--resume continues a partial copy. Names sent by the server that would land
outside the local target are refused.`,
		GroupID: groupApplication,
		Args:    noArgs,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return usageError("netkit sftp needs a subcommand: get, put, ls, rm or mkdir")
		}),
	}
	sub := func(use, short, example string, args cobra.PositionalArgs, run func(ctx context.Context, s *remote.SFTP, dest string, args []string) error) *cobra.Command {
		c := &cobra.Command{Use: use, Short: short, Example: example, Args: args,
			RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
				return runSFTP(ctx, a, o, args, run)
			})}
		o.conn.add(c, "P") // as scp
		c.Flags().IntVar(&o.requests, "requests", 64, "requests in flight per file")
		c.Flags().IntVarP(&o.packet, "buffer-size", "B", 32768, "bytes a request (as sftp -B; OpenSSH's server takes up to 261120)")
		return c
	}
	get := sub("get HOST:PATH [LOCAL]", "Copy a remote file or tree here", "  netkit sftp get box:/var/log/syslog .\n  netkit sftp get -r --resume box:data ./backup",
		cobra.RangeArgs(1, 2), func(ctx context.Context, s *remote.SFTP, dest string, args []string) error {
			local := "."
			if len(args) == 2 {
				local = args[1]
			}
			return sftpCopy(ctx, a, o, func(to remote.TransferOptions) (remote.TransferStats, error) {
				return s.Get(ctx, args[0], local, to)
			})
		})
	put := sub("put LOCAL HOST:PATH", "Copy a local file or tree there", "  netkit sftp put report.pdf box:/srv/share/\n  netkit sftp put -r site/ box:/var/www",
		cobra.ExactArgs(2), func(ctx context.Context, s *remote.SFTP, dest string, args []string) error {
			return sftpCopy(ctx, a, o, func(to remote.TransferOptions) (remote.TransferStats, error) {
				return s.Put(ctx, args[0], args[1], to)
			})
		})
	for _, c := range []*cobra.Command{get, put} {
		c.Flags().BoolVarP(&o.recursive, "recursive", "r", false, "copy directories and everything in them")
		c.Flags().BoolVar(&o.resume, "resume", false, "continue a partial copy instead of starting again")
	}
	ls := sub("ls HOST:PATH", "List a remote directory", "  netkit sftp ls box:/etc\n  netkit sftp ls --json box:", cobra.ExactArgs(1),
		func(ctx context.Context, s *remote.SFTP, dest string, args []string) error {
			list, err := s.List(args[0])
			if err != nil {
				return err
			}
			return a.render(sftpListing(list))
		})
	rm := sub("rm HOST:PATH...", "Remove remote files (directories with -r)", "  netkit sftp rm box:/tmp/old.log", cobra.MinimumNArgs(1),
		func(ctx context.Context, s *remote.SFTP, dest string, args []string) error {
			for _, p := range args {
				if err := s.Remove(p, o.recursive); err != nil {
					return err
				}
			}
			return nil
		})
	rm.Flags().BoolVarP(&o.recursive, "recursive", "r", false, "remove directories and everything in them")
	mkdir := sub("mkdir HOST:PATH...", "Make remote directories", "  netkit sftp mkdir -p box:/srv/a/b", cobra.MinimumNArgs(1),
		func(ctx context.Context, s *remote.SFTP, dest string, args []string) error {
			for _, p := range args {
				if err := s.Mkdir(p, o.parents); err != nil {
					return err
				}
			}
			return nil
		})
	mkdir.Flags().BoolVarP(&o.parents, "parents", "p", false, "make missing parents too, and accept existing directories")
	cmd.AddCommand(get, put, ls, rm, mkdir)
	return cmd
}

// runSFTP finds the one host the HOST:PATH arguments name, connects, and
// runs the operation with the arguments' paths alone.
func runSFTP(ctx context.Context, a *app, o *sftpOptions, args []string, run func(context.Context, *remote.SFTP, string, []string) error) error {
	dest := ""
	paths := append([]string(nil), args...)
	for i, arg := range args {
		if !looksRemote(arg) {
			continue
		}
		d, p, err := remote.ParseRemotePath(arg)
		if err != nil {
			return inputError(err)
		}
		if dest != "" && d != dest {
			return usageError("%q and %q name two hosts: one at a time", dest, d)
		}
		dest, paths[i] = d, p
	}
	if dest == "" {
		return usageError("no HOST:PATH among %q: write the remote side as scp does, box:/path or ann@box:file", args)
	}
	if o.requests < 1 || o.packet < 1024 || o.packet > 1<<20 {
		return usageError("--requests is at least 1 and --buffer-size 1024 to 1048576 (got %d and %d)", o.requests, o.packet)
	}
	ro, err := o.conn.options(a)
	if err != nil {
		return err
	}
	c, err := remote.Dial(ctx, dest, ro)
	if err != nil {
		return sshError(err)
	}
	defer c.Close()
	s, err := c.SFTP(remote.SFTPOptions{Requests: o.requests, PacketSize: o.packet})
	if err != nil {
		return err
	}
	defer s.Close()
	return run(ctx, s, dest, paths)
}

// looksRemote tells HOST:PATH from a local path: a colon before any slash.
func looksRemote(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '/':
			return false
		case ':':
			return i > 0
		}
	}
	return false
}

func sftpCopy(ctx context.Context, a *app, o *sftpOptions, copy func(remote.TransferOptions) (remote.TransferStats, error)) error {
	return copyFiles(a, "sftp", func(progress func(string, int64, int64)) (func(float64) humanWriter, error) {
		st, err := copy(remote.TransferOptions{Recursive: o.recursive, Resume: o.resume, Progress: progress})
		return func(sec float64) humanWriter { return sftpResult{st, sec} }, err
	})
}

type sftpResult struct {
	remote.TransferStats
	Seconds float64 `json:"seconds"`
}

func (r sftpResult) writeHuman(w io.Writer, st textui.Style) error {
	var notes []string
	if r.Resumed > 0 {
		notes = append(notes, textui.FormatBytes(r.Resumed)+" already there")
	}
	return writeCopyLine(w, r.Files, r.Bytes, r.Seconds, notes...)
}

type sftpListing []remote.Entry

func (l sftpListing) writeHuman(w io.Writer, st textui.Style) error {
	for _, e := range l {
		name := e.Name
		if e.Dir {
			name = st.Bold(name) + "/"
		}
		if e.Link != "" {
			name += " -> " + e.Link
		}
		if _, err := fmt.Fprintf(w, "%s %12d %s %s\n", e.ModeStr, e.Size, e.ModTime.Local().Format("2006-01-02 15:04"), name); err != nil {
			return err
		}
	}
	return nil
}
