package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/ftp"
	"github.com/netkit-dev/netkit/mail"
	"github.com/spf13/cobra"
)

type ftpServeOptions struct {
	listen, users      string
	writable, tls      bool
	cert, key, certOut string
}

func newFTPServeCmd(a *app) *cobra.Command {
	var o ftpServeOptions
	cmd := &cobra.Command{
		Use:   "serve [DIR]",
		Short: "Serve a directory over FTP",
		Long: `Serves DIR (default: the current directory) to FTP clients: passive and
active data connections (to the client's own address only), MLSD and LIST,
REST for resumed transfers, and AUTH TLS with --tls. No name reaches
outside DIR. Anyone may log in unless --users FILE lists the accounts
(user:password a line); clients may write only with --writable. Runs until
interrupted.`,
		Example: `  netkit ftp serve ./pub -l 127.0.0.1:2121 &
  curl ftp://127.0.0.1:2121/
  netkit ftp serve --writable --tls --cert-out ca.pem -l 127.0.0.1:2121 .`,
		Args: maxArgs(1, "at most one DIR"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return runFTPServe(ctx, a, o, dir)
		}),
	}
	f := cmd.Flags()
	f.StringVarP(&o.listen, "listen", "l", "127.0.0.1:2121", "listen on this `ADDRESS` (port 0: any free port)")
	f.BoolVar(&o.writable, "writable", false, "let clients upload, make directories, rename and delete")
	f.StringVar(&o.users, "users", "", "accounts, one user:password a line (default: anyone may log in)")
	f.BoolVar(&o.tls, "tls", false, "offer AUTH TLS, with a certificate made now unless --cert and --key give one")
	f.StringVar(&o.cert, "cert", "", "with --tls, the certificate chain (PEM `FILE`)")
	f.StringVar(&o.key, "key", "", "with --tls, the private key (PEM `FILE`)")
	f.StringVar(&o.certOut, "cert-out", "", "with --tls, write the certificate made now to this `FILE`")
	return cmd
}

func runFTPServe(ctx context.Context, a *app, o ftpServeOptions, dir string) error {
	e, err := parseEndpoint(o.listen)
	if err != nil {
		return err
	}
	if e.Scheme != endpoint.TCP && e.Scheme != endpoint.TCP4 && e.Scheme != endpoint.TCP6 {
		return usageError("invalid --listen %q: FTP is served over TCP", o.listen)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return inputError(fmt.Errorf("serve %s: not a directory", dir))
	}
	srv := &ftp.Server{Root: dir, Writable: o.writable, Logger: a.logger()}
	if o.users != "" {
		f, err := os.Open(o.users)
		if err != nil {
			return inputError(fmt.Errorf("--users: %w", err))
		}
		srv.Users, err = mail.ReadUsers(f)
		f.Close()
		if err != nil {
			return inputError(fmt.Errorf("--users %s: %w", o.users, err))
		}
	}
	if o.tls {
		if srv.TLS, err = a.serverTLS(httpServeOptions{tls: true, cert: o.cert, key: o.key, certOut: o.certOut}, e.Host); err != nil {
			return err
		}
	} else if o.cert != "" || o.key != "" || o.certOut != "" {
		return usageError("--cert, --key and --cert-out go with --tls")
	}
	ln, err := endpoint.Listen(ctx, e)
	if err != nil {
		return fmt.Errorf("listen %s: %w", e, err)
	}
	fmt.Fprintf(a.io.Err, "netkit: serving %s on ftp://%s/\n", dir, ln.Addr())
	return srv.Serve(ctx, ln)
}
