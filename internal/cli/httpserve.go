package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/httpserve"
	"github.com/spf13/cobra"
)

type httpServeOptions struct {
	listen, log, maxUpload  string
	echo, upload, dotfiles  bool
	noGzip, tls, noSendfile bool
	cert, key, certOut      string
}

func newHTTPServeCmd(a *app) *cobra.Command {
	var o httpServeOptions
	cmd := &cobra.Command{
		Use:   "serve [DIR]",
		Short: "Serve a directory's files, or a test API with --echo",
		Long: `Serves the files under DIR (default: the current directory) over HTTP/1.1,
or HTTPS (and HTTP/2) with --tls: directory listings as HTML, or JSON for
Accept: application/json; Range requests; ETag and Last-Modified with
conditional requests; gzip for text when the client accepts it; MIME types
from the file names. No request reaches outside DIR (not by .., an encoded
slash or a symbolic link), and names that start with a dot are hidden
unless --dotfiles. --upload takes PUT into DIR.

--echo serves a test API in the spirit of httpbin.org instead of files:
/anything echoes the request as JSON, and /status/CODE, /delay/S,
/redirect/N, /cookies, /basic-auth/U/P, /bytes/N, /stream/N, /gzip and
/items (paginated with Link headers) give API clients something to talk to
offline; GET / lists the routes.

Each request is logged on stderr in Common Log Format (--log json for
JSON lines, none for no log). Runs until interrupted.`,
		Example: `  netkit http serve                       # the current directory on 127.0.0.1:8000
  netkit http serve ./site -l 0.0.0.0:8080 --upload
  netkit http serve --echo -l 127.0.0.1:8000 &
  netkit http post http://127.0.0.1:8000/anything name=netkit --jq .json
  netkit http serve --tls --cert-out ca.pem -l 127.0.0.1:8443 & curl --cacert ca.pem https://127.0.0.1:8443/`,
		Args: maxArgs(1, "at most one DIR"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return runHTTPServe(ctx, a, o, dir, len(args) == 1)
		}),
	}
	f := cmd.Flags()
	f.StringVarP(&o.listen, "listen", "l", "127.0.0.1:8000", "listen on this `ADDRESS` (port 0: any free port)")
	f.BoolVar(&o.echo, "echo", false, "serve the test API instead of files")
	f.BoolVar(&o.upload, "upload", false, "take PUT requests that store files in DIR")
	f.StringVar(&o.maxUpload, "max-upload", "1G", "the largest upload (K, M, G: powers of 1024)")
	f.BoolVar(&o.dotfiles, "dotfiles", false, "serve and list names that start with a dot")
	f.BoolVar(&o.noGzip, "no-gzip", false, "never compress")
	f.BoolVar(&o.noSendfile, "no-sendfile", false, "copy files through a buffer, not with sendfile (faster on loopback)")
	f.BoolVar(&o.tls, "tls", false, "serve HTTPS, with a certificate made now unless --cert and --key give one")
	f.StringVar(&o.cert, "cert", "", "with --tls, the certificate chain (PEM `FILE`)")
	f.StringVar(&o.key, "key", "", "with --tls, the private key (PEM `FILE`)")
	f.StringVar(&o.certOut, "cert-out", "", "with --tls, write the certificate made now to this `FILE` (for curl --cacert)")
	f.StringVar(&o.log, "log", "clf", "the access log on stderr: clf, json or none")
	return cmd
}

func runHTTPServe(ctx context.Context, a *app, o httpServeOptions, dir string, dirGiven bool) error {
	e, err := parseEndpoint(o.listen)
	if err != nil {
		return err
	}
	if e.Scheme != endpoint.TCP && e.Scheme != endpoint.TCP4 && e.Scheme != endpoint.TCP6 {
		return usageError("invalid --listen %q: HTTP is served over TCP (HOST:PORT or tcp://HOST:PORT; --tls for HTTPS)", o.listen)
	}
	if (o.cert != "") != (o.key != "") || (o.cert != "" || o.certOut != "") && !o.tls {
		return usageError("--cert and --key go together, and with --tls (as does --cert-out)")
	}
	if o.echo && dirGiven {
		return usageError("--echo serves the test API, not files: give no DIR")
	}
	maxUp, err := parseSize("--max-upload", o.maxUpload, 1024)
	if err != nil {
		return err
	}
	var logFormat httpserve.LogFormat
	switch o.log {
	case "clf":
		logFormat = httpserve.LogCommon
	case "json":
		logFormat = httpserve.LogJSON
	case "none":
	default:
		return usageError("invalid --log %q: clf, json or none", o.log)
	}
	var h http.Handler = &httpserve.Echo{}
	if !o.echo {
		files, err := httpserve.OpenFiles(dir)
		if err != nil {
			return inputError(fmt.Errorf("serve %s: %w", dir, err))
		}
		defer files.Close()
		files.Dotfiles, files.Upload, files.MaxUpload, files.NoGzip, files.NoSendfile = o.dotfiles, o.upload, int64(maxUp), o.noGzip, o.noSendfile
		h = files
	}
	if o.log != "none" {
		h = httpserve.AccessLog(h, a.io.Err, logFormat)
	}
	srv := &httpserve.Server{Handler: h, Logger: a.logger()}
	if o.tls {
		if srv.TLS, err = a.serverTLS(o, e.Host); err != nil {
			return err
		}
	}
	ln, err := endpoint.Listen(ctx, e)
	if err != nil {
		return fmt.Errorf("listen %s: %w", e, err)
	}
	scheme := "http"
	if o.tls {
		scheme = "https"
	}
	what := "the test API"
	if !o.echo {
		what = dir
	}
	fmt.Fprintf(a.io.Err, "netkit: serving %s on %s://%s/\n", what, scheme, ln.Addr())
	return srv.Serve(ctx, ln)
}

// serverTLS loads --cert and --key, or makes a certificate for host and
// the loopback names and says how to trust it.
func (a *app) serverTLS(o httpServeOptions, host string) (*tls.Config, error) {
	if o.cert != "" {
		c, err := tls.LoadX509KeyPair(o.cert, o.key)
		if err != nil {
			return nil, inputError(fmt.Errorf("--cert/--key: %w", err))
		}
		return &tls.Config{Certificates: []tls.Certificate{c}}, nil
	}
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if host != "" && net.ParseIP(host) == nil || host != "" && !net.ParseIP(host).IsUnspecified() {
		hosts = append(hosts, host)
	}
	c, err := httpserve.SelfSigned(0, hosts...)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(a.io.Err, "netkit: a certificate for %v, made now, SHA-256 fingerprint %s\n", hosts, c.Fingerprint)
	if o.certOut != "" {
		if err := os.WriteFile(o.certOut, c.PEM, 0o644); err != nil {
			return nil, fmt.Errorf("--cert-out: %w", err)
		}
		fmt.Fprintf(a.io.Err, "netkit: wrote it to %s (curl --cacert %s)\n", o.certOut, o.certOut)
	} else {
		a.io.Err.Write(c.PEM)
	}
	return &tls.Config{Certificates: []tls.Certificate{c.TLS}}, nil
}
