package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/netkit-dev/netkit/ftp"
	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/spf13/cobra"
)

type ftpOptions struct {
	explicit, active, noEPSV, wire bool
	user, passwordFile             string
	tls                            tlsFlags
	segments                       int
	resume, reverse, dryRun        bool
}

func newFTPCmd(a *app) *cobra.Command {
	o := &ftpOptions{}
	cmd := &cobra.Command{
		Use:   "ftp",
		Short: "Copy, list and mirror files over FTP and FTPS, and a small FTP server",
		Long: `An FTP client (lftp's and curl's job) and server. Files are URLs:
ftp://[user@]host[:port]/path, or ftps:// for implicit TLS (port 990);
--tls upgrades ftp:// with AUTH TLS and fails without it. Paths are
relative to the login directory, as curl takes them (//path is absolute).

Data connections are passive (EPSV, then PASV if the server refuses it; a
PASV address that cannot be right from here, such as a server behind NAT
announcing its inside address, is replaced by the control connection's and
said on stderr), or active with --active (EPRT, then PORT). Listings use
MLSD where the server offers it and parse LIST output where not. Files are
written under NAME.netkit-part and renamed when whole; --resume continues
one. get -n N reads a file over N connections at once (lftp's pget -n).
The password comes from NETKIT_FTP_PASSWORD, --password-file or a prompt;
without a user, the login is anonymous.`,
		GroupID: groupApplication,
		Args:    noArgs,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return usageError("netkit ftp needs a subcommand: ls, get, put, mirror or serve")
		}),
	}
	// client builds a subcommand whose URL is its urlArg'th argument.
	client := func(use, short, example string, args cobra.PositionalArgs, urlArg int, run func(ctx context.Context, c *ftp.Conn, l ftp.Location, args []string) error) *cobra.Command {
		c := &cobra.Command{Use: use, Short: short, Example: example, Args: args,
			RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
				return runFTP(ctx, a, o, args[urlArg], args, run)
			})}
		f := c.Flags()
		f.BoolVar(&o.explicit, "tls", false, "upgrade with AUTH TLS (FTPES), and fail without it")
		f.BoolVar(&o.active, "active", false, "active mode: the server connects back (EPRT, PORT)")
		f.BoolVar(&o.noEPSV, "no-epsv", false, "passive mode with PASV only")
		f.StringVarP(&o.user, "user", "u", "", "log in as this `USER` (default: the URL's, else anonymous)")
		f.StringVar(&o.passwordFile, "password-file", "", "read the password from this `FILE` (else NETKIT_FTP_PASSWORD or a prompt)")
		f.BoolVar(&o.wire, "wire", false, "show the control connection's dialogue on stderr, the password masked")
		f.StringVar(&o.tls.cacert, "cacert", "", "trust the CA certificates in this PEM `FILE`")
		f.BoolVarP(&o.tls.insecure, "insecure", "k", false, "do not verify the server's certificate")
		return c
	}
	ls := client("ls URL", "List a remote directory", "  netkit ftp ls ftp://127.0.0.1:2121/\n  netkit ftp ls --json --tls ftp://ann@files.example.org/pub", cobra.ExactArgs(1), 0,
		func(ctx context.Context, c *ftp.Conn, l ftp.Location, args []string) error {
			list, err := c.List(ctx, l.Path)
			if err != nil {
				return err
			}
			return a.render(ftpListing(list))
		})
	get := client("get URL [LOCAL]", "Copy a remote file here", "  netkit ftp get ftp://127.0.0.1:2121/big.iso\n  netkit ftp get -n 8 --resume ftp://mirror.example.org/pub/big.iso /tmp/", cobra.RangeArgs(1, 2), 0,
		func(ctx context.Context, c *ftp.Conn, l ftp.Location, args []string) error {
			local := "."
			if len(args) == 2 {
				local = args[1]
			}
			return ftpCopy(a, func(to ftp.TransferOptions) (ftp.Stats, error) {
				to.Segments, to.Resume = o.segments, o.resume
				return c.Get(ctx, l.Path, local, to)
			})
		})
	get.Flags().IntVarP(&o.segments, "segments", "n", 1, "read the file over this many connections at once")
	put := client("put LOCAL URL", "Copy a local file there", "  netkit ftp put report.pdf ftp://ann@127.0.0.1:2121/incoming/", cobra.ExactArgs(2), 1,
		func(ctx context.Context, c *ftp.Conn, l ftp.Location, args []string) error {
			return ftpCopy(a, func(to ftp.TransferOptions) (ftp.Stats, error) {
				to.Resume = o.resume
				return c.Put(ctx, args[0], l.Path, to)
			})
		})
	for _, c := range []*cobra.Command{get, put} {
		c.Flags().BoolVar(&o.resume, "resume", false, "continue a partial copy instead of starting again")
	}
	mirror := client("mirror URL LOCAL", "Make a local directory a copy of a remote one (or the reverse)",
		"  netkit ftp mirror ftp://127.0.0.1:2121/pub ./pub\n  netkit ftp mirror --reverse --dry-run ftp://ann@127.0.0.1:2121/site ./site", cobra.ExactArgs(2), 0,
		func(ctx context.Context, c *ftp.Conn, l ftp.Location, args []string) error {
			mo := ftp.MirrorOptions{Reverse: o.reverse, DryRun: o.dryRun}
			mo.Segments = o.segments
			if o.dryRun {
				_, err := c.Mirror(ctx, l.Path, args[1], mo, func(act ftp.Action) { a.emit(ftpAction(act)) })
				if err == nil && !a.json {
					fmt.Fprintln(a.io.Out, "dry run: nothing copied")
				}
				return err
			}
			return ftpCopy(a, func(to ftp.TransferOptions) (ftp.Stats, error) {
				mo.Progress = to.Progress
				return c.Mirror(ctx, l.Path, args[1], mo, func(act ftp.Action) {
					if act.Op != "skip" || a.verbose > 0 {
						a.emit(ftpAction(act))
					}
				})
			})
		})
	mirror.Flags().BoolVar(&o.reverse, "reverse", false, "upload: make the remote directory a copy of LOCAL")
	mirror.Flags().BoolVar(&o.dryRun, "dry-run", false, "say what would be copied, copy nothing")
	mirror.Flags().IntVarP(&o.segments, "segments", "n", 1, "read each file over this many connections at once")
	cmd.AddCommand(ls, get, put, mirror, newFTPServeCmd(a))
	return cmd
}

func runFTP(ctx context.Context, a *app, o *ftpOptions, url string, args []string, run func(context.Context, *ftp.Conn, ftp.Location, []string) error) error {
	l, err := ftp.ParseURL(url)
	if err != nil {
		return inputError(err)
	}
	fo := ftp.Options{User: l.User, Password: l.Password, Security: l.Security, Active: o.active, DisableEPSV: o.noEPSV}
	if o.explicit {
		if l.Security == ftp.Implicit {
			return usageError("--tls is AUTH TLS over ftp://; ftps:// is TLS already")
		}
		fo.Security = ftp.Explicit
	}
	if fo.Security != ftp.Plain {
		if fo.TLS, err = o.tls.config(); err != nil {
			return err
		}
	}
	if o.user != "" {
		fo.User = o.user
	}
	if fo.User != "" && fo.Password == "" {
		if fo.Password, err = a.password("NETKIT_FTP_PASSWORD", o.passwordFile, fo.User+"'s FTP password: "); err != nil {
			return err
		}
	}
	if o.wire {
		fo.Wire = func(dir, line string) { fmt.Fprintf(a.io.Err, "%s: %s\n", dir, line) }
	}
	c, err := ftp.Dial(ctx, l.Addr, fo)
	if err != nil {
		return err
	}
	defer c.Quit()
	err = run(ctx, c, l, args)
	for _, n := range c.Notices {
		fmt.Fprintln(a.io.Err, "netkit: "+n)
	}
	return err
}

func ftpCopy(a *app, copy func(ftp.TransferOptions) (ftp.Stats, error)) error {
	return copyFiles(a, "ftp", func(progress func(string, int64, int64)) (func(float64) humanWriter, error) {
		st, err := copy(ftp.TransferOptions{Progress: progress})
		return func(sec float64) humanWriter { return ftpResult{st, sec} }, err
	})
}

type ftpResult struct {
	ftp.Stats
	Seconds float64 `json:"seconds"`
}

func (r ftpResult) writeHuman(w io.Writer, st textui.Style) error {
	var notes []string
	if r.Segments > r.Files && r.Files > 0 {
		notes = append(notes, fmt.Sprintf("%d connections", r.Segments))
	}
	if r.Resumed > 0 {
		notes = append(notes, textui.FormatBytes(r.Resumed)+" already there")
	}
	if r.Skipped > 0 {
		notes = append(notes, fmt.Sprintf("%d up to date", r.Skipped))
	}
	return writeCopyLine(w, r.Files, r.Bytes, r.Seconds, notes...)
}

type ftpAction ftp.Action

func (act ftpAction) writeHuman(w io.Writer, st textui.Style) error {
	_, err := fmt.Fprintf(w, "%-5s %s (%s)\n", act.Op, act.Path, act.Reason)
	return err
}

type ftpListing []ftp.Entry

func (l ftpListing) writeHuman(w io.Writer, st textui.Style) error {
	for _, e := range l {
		name := e.Name
		switch e.Type {
		case ftp.Dir:
			name = st.Bold(name) + "/"
		case ftp.Link:
			if e.Link != "" {
				name += " -> " + e.Link
			}
		}
		when := ""
		if !e.ModTime.IsZero() {
			when = e.ModTime.Local().Format("2006-01-02 15:04")
		}
		if _, err := fmt.Fprintf(w, "%-4s %12d %16s %s\n", e.Type, e.Size, when, name); err != nil {
			return err
		}
	}
	return nil
}
