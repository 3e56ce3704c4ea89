package gateway

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// RunOptions are Run's.
type RunOptions struct {
	Options
	// Admin is the Unix socket for the admin endpoint; if empty, the
	// file's admin key; if that is empty too, DefaultAdmin; and if that
	// is empty, there is none.
	Admin, DefaultAdmin string
	// Reload asks, with each value, for the file to be read again and
	// swapped in: give it the channel signal.Notify fills with SIGHUP.
	Reload <-chan os.Signal
	// Ready, if set, is called once every listener is bound and the
	// admin endpoint listens.
	Ready func(*Gateway)
}

// Run is `netkit gateway run`: it loads file, binds its listeners and the
// admin endpoint, and serves until ctx ends, reading the file again at
// each reload request (from opts.Reload or the admin endpoint). A file
// that fails to load on reload leaves the running configuration as it
// was.
func Run(ctx context.Context, file string, opts RunOptions) error {
	cfg, err := Load(file)
	if err != nil {
		return err
	}
	g, err := New(cfg, opts.Options)
	if err != nil {
		return err
	}
	reload := func() (ReloadReport, error) {
		var rep ReloadReport
		cfg, err := Load(file)
		if err == nil {
			rep, err = g.Reload(cfg)
		}
		if err != nil {
			g.log.Error("reload refused; the running configuration stays", "err", err)
		}
		return rep, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	admin := cmp.Or(opts.Admin, cfg.Admin, opts.DefaultAdmin)
	errc := make(chan error, 2)
	if admin != "" {
		ln, err := ListenAdmin(admin)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: g.AdminHandler(reload), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
		defer func() {
			srv.Close()
			os.Remove(admin)
		}()
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-opts.Reload:
				reload()
			}
		}
	}()
	if opts.Ready != nil {
		opts.Ready(g)
	}
	go func() { errc <- g.Serve(ctx) }()
	select {
	case <-ctx.Done():
		return <-errc
	case err := <-errc:
		cancel()
		return err
	}
}

// ListenAdmin listens on the Unix socket path, readable and writable by
// its owner alone. A socket file left by a gateway that is gone is
// replaced; one that a running gateway answers on is an error.
func ListenAdmin(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("gateway: admin socket %s: a file that is not a socket is there", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("gateway: admin socket %s: another gateway answers there", path)
		}
		os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("gateway: admin socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("gateway: admin socket: %w", err)
	}
	return ln, nil
}

// AdminHandler serves GET /status (a Status in JSON) and POST /reload
// (calls reload, answers its ReloadReport, or 422 and the error).
func (g *Gateway) AdminHandler(reload func() (ReloadReport, error)) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(g.Status())
	})
	mux.HandleFunc("POST /reload", func(w http.ResponseWriter, r *http.Request) {
		rep, err := reload()
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusUnprocessableEntity)
			json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		json.NewEncoder(w).Encode(rep)
	})
	return mux
}

// AdminClient talks to a running gateway's admin socket.
type AdminClient struct {
	Path string
}

func (a AdminClient) do(ctx context.Context, method, path string, v any) error {
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", a.Path)
	}}}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, method, "http://gateway"+path, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("gateway: admin socket %s: %w (is `netkit gateway run` running with this --admin socket, or the file's admin key?)", a.Path, unwrapURL(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("gateway: admin socket %s: %w", a.Path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		json.Unmarshal(body, &e)
		return fmt.Errorf("gateway: %s", e.Error)
	}
	return json.Unmarshal(body, v)
}

func unwrapURL(err error) error {
	if ue, ok := errors.AsType[*net.OpError](err); ok {
		return ue.Err
	}
	return err
}

// Status asks the gateway for its Status.
func (a AdminClient) Status(ctx context.Context) (Status, error) {
	var st Status
	err := a.do(ctx, http.MethodGet, "/status", &st)
	return st, err
}

// Reload asks the gateway to read its file again.
func (a AdminClient) Reload(ctx context.Context) (ReloadReport, error) {
	var rep ReloadReport
	err := a.do(ctx, http.MethodPost, "/reload", &rep)
	return rep, err
}
