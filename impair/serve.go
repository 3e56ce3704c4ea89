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

// Route is one listen address and the server it relays to.
type Route struct {
	Listen, To endpoint.Endpoint
}

// ServeRoutes relays every route through one shared Path (one bottleneck
// for all their flows), each route a Proxy with base's options, until ctx
// ends or one fails; ready is told of each bound address. It returns the
// counters of the path and the sessions of all.
func ServeRoutes(ctx context.Context, routes []Route, base *Proxy, ready func(r Route, addr net.Addr)) (Stats, error) {
	path := NewPath(base.Up, base.Down, base.Seed)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	proxies := make([]*Proxy, len(routes))
	errs := make(chan error, len(routes))
	for i, r := range routes {
		if !r.To.IsPacket() {
			return Stats{}, &ParseError{r.To.String(), "impair relays UDP: give udp://, udp4:// or udp6:// endpoints"}
		}
		p := &Proxy{To: r.To.Address(), Path: path, Idle: base.Idle, MaxSessions: base.MaxSessions, FollowPort: base.FollowPort, Decided: base.Decided}
		proxies[i] = p
		go func() {
			err := ListenAndServe(ctx, p, r.Listen, func(a net.Addr) {
				if ready != nil {
					ready(r, a)
				}
			})
			if err != nil {
				cancel()
			}
			errs <- err
		}()
	}
	var first error
	for range routes {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	var st Stats
	st.Up, st.Down = path.Counters()
	for _, p := range proxies {
		s := p.Stats()
		st.Sessions += s.Sessions
		st.Refused += s.Refused
	}
	return st, first
}
