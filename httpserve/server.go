package httpserve

import (
	"context"
	"crypto/tls"
	"errors"
	"log"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Server serves a handler on a listener until its context ends. Its zero
// value serves nothing useful: set Handler.
type Server struct {
	Handler http.Handler
	// TLS, if set, serves HTTPS with it (HTTP/1.1 and HTTP/2 by ALPN).
	TLS *tls.Config
	// ReadHeaderTimeout bounds the wait for a request's head. If zero,
	// 10s.
	ReadHeaderTimeout time.Duration
	// IdleTimeout closes a kept-alive connection idle this long. If zero,
	// 2 minutes.
	IdleTimeout time.Duration
	// Grace is how long Serve waits, once ctx ends, for requests in
	// flight to finish. If zero, 5s.
	Grace time.Duration
	// Logger gets net/http's own complaints (TLS handshakes that failed,
	// panics). If nil, they are dropped.
	Logger *slog.Logger
}

// Serve accepts on ln until ctx ends, then shuts down gracefully and
// returns nil; it returns an error only when accepting fails.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler,
		ReadHeaderTimeout: or(s.ReadHeaderTimeout, 10*time.Second),
		IdleTimeout:       or(s.IdleTimeout, 2*time.Minute),
	}
	if s.Logger != nil {
		hs.ErrorLog = slog.NewLogLogger(s.Logger.Handler(), slog.LevelDebug)
	} else {
		hs.ErrorLog = log.New(discard{}, "", 0)
	}
	if s.TLS != nil {
		cfg := s.TLS.Clone()
		if len(cfg.NextProtos) == 0 {
			cfg.NextProtos = []string{"h2", "http/1.1"}
		}
		hs.TLSConfig = cfg
		ln = tls.NewListener(ln, cfg)
	}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), or(s.Grace, 5*time.Second))
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
