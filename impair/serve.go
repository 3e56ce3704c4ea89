package impair

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
)

// ListenAndServe binds listen (a udp endpoint), tells ready where, and
// serves the proxy there until ctx ends.
func ListenAndServe(ctx context.Context, p *Proxy, listen endpoint.Endpoint, ready func(net.Addr)) error {
	if !listen.IsPacket() {
		return &ParseError{listen.String(), "impair relays UDP: give udp://, udp4:// or udp6:// endpoints"}
	}
	pc, err := endpoint.ListenPacket(ctx, listen)
	if err != nil {
		return err
	}
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		pc.Close()
		return fmt.Errorf("impair: %s is not a UDP socket", listen)
	}
	if ready != nil {
		ready(uc.LocalAddr())
	}
	return p.Serve(ctx, uc)
}

// ServeAPI serves api on a TCP address until ctx ends. An address beyond
// loopback is refused unless api has a Token: the API opens sockets.
func ServeAPI(ctx context.Context, addr string, api *API, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if ap, err := netip.ParseAddrPort(ln.Addr().String()); err == nil && !ap.Addr().IsLoopback() && api.Token == "" {
		ln.Close()
		return &ParseError{addr, "the API listens beyond loopback only with a token"}
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 5 * time.Second}
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	defer stop()
	if ready != nil {
		ready(ln.Addr())
	}
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
