package inetd

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/server"
	"github.com/netkit-dev/netkit/server/eventloop"
)

// TutorialPort is where Serve listens when given no endpoint: the
// tutorials' port.
const TutorialPort = 12345

// ServeConfig is one service served on some endpoints. Its zero value,
// with a Service, serves it on 127.0.0.1:12345 over TCP (and UDP where the
// service has a UDP form) on the goroutine engine.
type ServeConfig struct {
	Service Service
	// Endpoints to listen on: tcp, udp and unix ones. If none, the
	// tutorials' 127.0.0.1:12345.
	Endpoints []endpoint.Endpoint
	// EventLoop serves TCP on the epoll engine instead of a goroutine per
	// connection. UDP is served the same way either way.
	EventLoop bool
	// Server holds the limits, filter and events of the stream engine.
	Server server.Config
	// KeepAlive is the TCP keep-alive probe interval. If zero, off (which
	// saves four setsockopt calls per connection).
	KeepAlive time.Duration
	// Console, if set, is the chat room's console: lines read from
	// Console.In are said to the room, and the room is written to
	// Console.Out.
	Console *Console
	// OnListen, if set, is told of each endpoint as it is bound (the port
	// the system chose, for port 0).
	OnListen func(endpoint.Endpoint)
}

// Console joins the chat room to a pair of streams.
type Console struct {
	In  io.Reader
	Out io.Writer
}

// Serve binds every endpoint (all before any is served, so that a bad one
// fails first), then serves the service on them until ctx ends, and stops
// gracefully (server.Run).
func Serve(ctx context.Context, cfg ServeConfig) error {
	svc := cfg.Service
	if svc.New == nil {
		return fmt.Errorf("inetd: no service to serve")
	}
	eps := cfg.Endpoints
	if len(eps) == 0 {
		eps = []endpoint.Endpoint{{Scheme: endpoint.TCP, Host: "127.0.0.1", Port: TutorialPort}}
		if svc.NewPacket != nil {
			eps = append(eps, endpoint.Endpoint{Scheme: endpoint.UDP, Host: "127.0.0.1", Port: TutorialPort})
		}
	}
	for _, e := range eps {
		switch {
		case e.IsStdio(), e.Scheme == endpoint.TLS:
			return fmt.Errorf("inetd: %s: services listen on tcp, udp and unix endpoints", e)
		case e.IsPacket() && svc.NewPacket == nil:
			return fmt.Errorf("inetd: %s has no UDP form: serve it on a tcp:// endpoint", svc.Name)
		}
	}
	handler := svc.New()
	if ch, ok := handler.(*Chat); ok && cfg.Console != nil {
		ch.Console = cfg.Console.Out
		go func() {
			sc := bufio.NewScanner(cfg.Console.In)
			for sc.Scan() {
				ch.Say(sc.Text())
			}
		}()
	}
	var srv server.StreamServer = &server.Server{Config: cfg.Server, Handler: handler}
	if cfg.EventLoop {
		srv = &eventloop.Server{Config: cfg.Server, Handler: handler}
	}
	var psrv *server.PacketServer
	if svc.NewPacket != nil {
		psrv = &server.PacketServer{Handler: svc.NewPacket()}
	}
	var units []server.Unit
	var socks []io.Closer
	fail := func(e endpoint.Endpoint, err error) error {
		for _, c := range socks {
			c.Close()
		}
		return fmt.Errorf("listen %s: %w", e, err)
	}
	for _, e := range eps {
		var addr net.Addr
		if e.IsPacket() {
			pc, err := endpoint.ListenPacket(ctx, e)
			if err != nil {
				return fail(e, err)
			}
			socks, addr = append(socks, pc), pc.LocalAddr()
			units = append(units, server.Datagram(psrv, pc))
		} else {
			lc := endpoint.ListenConfig{}
			lc.ListenConfig.KeepAlive = cfg.KeepAlive
			if cfg.KeepAlive == 0 {
				lc.ListenConfig.KeepAlive = -1
			}
			l, err := lc.Listen(ctx, e)
			if err != nil {
				return fail(e, err)
			}
			socks, addr = append(socks, l), l.Addr()
			units = append(units, server.Stream(srv, l))
		}
		if cfg.OnListen != nil {
			bound, ok := endpoint.FromAddr(addr)
			if !ok {
				bound = e
			} else if e.Scheme != endpoint.Unix {
				bound.Scheme = e.Scheme
			}
			cfg.OnListen(bound)
		}
	}
	return server.Run(ctx, 0, units...)
}
