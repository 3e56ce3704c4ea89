package dnsserver

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/server"
)

// Socket is one address a Server answers on: over UDP, TCP, or both.
type Socket struct {
	UDP *net.UDPConn // nil: not over UDP
	TCP net.Listener // nil: not over TCP
}

// Endpoints names the endpoints the socket is bound to, UDP first.
func (s Socket) Endpoints() []string {
	var out []string
	if s.UDP != nil {
		out = append(out, "udp://"+s.UDP.LocalAddr().String())
	}
	if s.TCP != nil {
		out = append(out, "tcp://"+s.TCP.Addr().String())
	}
	return out
}

// Close closes the socket's listeners.
func (s Socket) Close() {
	if s.UDP != nil {
		s.UDP.Close()
	}
	if s.TCP != nil {
		s.TCP.Close()
	}
}

// Listen binds addr: an endpoint URL (udp://, udp4://, udp6:// for UDP
// alone; tcp://, tcp4://, tcp6:// for TCP alone), or a bare HOST:PORT for
// both on the same port, as DNS servers listen (port 0 picks one free for
// both).
func Listen(ctx context.Context, addr string) (Socket, error) {
	e, err := endpoint.Parse(addr)
	if err != nil {
		return Socket{}, err
	}
	if e.Host != "" && net.ParseIP(e.Host) == nil {
		return Socket{}, &endpoint.ParseError{Input: addr, What: "host name " + e.Host,
			Rule: "a DNS server listens on a literal address, such as 127.0.0.1:5353 or udp://[::1]:5353"}
	}
	var lc endpoint.ListenConfig
	switch {
	case !strings.Contains(addr, "://"):
		network := "tcp"
		if ip := net.ParseIP(e.Host); ip != nil && ip.To4() == nil {
			network = "tcp6"
		} else if ip != nil {
			network = "tcp4"
		}
		l, pc, err := lc.ListenBoth(ctx, network, net.JoinHostPort(e.Host, fmt.Sprint(e.Port)))
		if err != nil {
			return Socket{}, err
		}
		return Socket{UDP: pc.(*net.UDPConn), TCP: l}, nil
	case e.IsPacket():
		pc, err := lc.ListenPacket(ctx, e)
		if err != nil {
			return Socket{}, err
		}
		return Socket{UDP: pc.(*net.UDPConn)}, nil
	case e.Scheme == endpoint.TCP || e.Scheme == endpoint.TCP4 || e.Scheme == endpoint.TCP6:
		l, err := lc.Listen(ctx, e)
		if err != nil {
			return Socket{}, err
		}
		return Socket{TCP: l}, nil
	}
	return Socket{}, &endpoint.ParseError{Input: addr, What: "scheme " + string(e.Scheme), Rule: "DNS is served over udp and tcp (a bare HOST:PORT is both)"}
}

// RunConfig shapes Run.
type RunConfig struct {
	// Readers is the number of goroutines reading each UDP socket. If
	// zero, one: Go lets one goroutine read a socket at a time, so more
	// only take turns, and each turn costs a wake-up (at 50,000 queries a
	// second, two readers spent 1.2x the CPU per query of one).
	Readers int
	// TCP holds the limits of the TCP listeners. If nil, 1,000
	// connections at once, 32 from one address, and when all are taken
	// a new client evicts the one idle longest if it has been idle a
	// second (RFC 7766 section 6.2.3): stalled connections cannot lock
	// other clients out.
	TCP *server.Config
	// Grace is how long TCP clients get to finish once ctx ends. If zero,
	// 2s.
	Grace time.Duration
	// Reload, if set, asks for the zones to be loaded again with Load.
	Reload <-chan struct{}
	// Load loads the zones on a Reload. A failure keeps the zones served
	// now.
	Load func() (*Zones, error)
	// Reloaded, if set, is told of each reload's outcome.
	Reloaded func(*Zones, error)
}

// Run answers on every socket until ctx ends or one fails, reloading the
// zones when asked, then stops gracefully and closes the sockets.
func (s *Server) Run(ctx context.Context, socks []Socket, cfg RunConfig) error {
	defer func() {
		for _, k := range socks {
			k.Close()
		}
	}()
	readers := cfg.Readers
	if readers <= 0 {
		readers = 1
	}
	tcfg := server.Config{MaxConns: 1000, MaxConnsPerIP: 32, EvictIdle: time.Second}
	if cfg.TCP != nil {
		tcfg = *cfg.TCP
	}
	tcp := s.TCPServer(tcfg)
	var units []server.Unit
	for _, k := range socks {
		if k.UDP != nil {
			pc := k.UDP
			udpCtx, cancel := context.WithCancel(context.Background())
			units = append(units, server.Unit{
				Serve:    func(context.Context) error { return s.ServeUDP(udpCtx, pc, readers) },
				Shutdown: func(context.Context) error { cancel(); return nil },
			})
		}
		if k.TCP != nil {
			units = append(units, server.Stream(tcp, k.TCP))
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	if cfg.Reload != nil && cfg.Load != nil {
		go func() {
			for {
				select {
				case <-runCtx.Done():
					return
				case <-cfg.Reload:
					zs, err := cfg.Load()
					if err == nil {
						s.SetZones(zs)
					}
					if cfg.Reloaded != nil {
						cfg.Reloaded(zs, err)
					}
				}
			}
		}()
	}
	grace := cfg.Grace
	if grace <= 0 {
		grace = 2 * time.Second
	}
	return server.Run(runCtx, grace, units...)
}
