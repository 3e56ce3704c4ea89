package endpoint

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
)

// Dialer opens connections to endpoints. Its zero value works: it dials with
// a zero net.Dialer and verifies TLS certificates against the system roots.
type Dialer struct {
	// Dialer holds the socket options: timeout, local address, keep-alive.
	Dialer net.Dialer
	// TLSConfig configures tls endpoints. If nil, a config whose ServerName
	// is the endpoint's host is used. If set without a ServerName, a copy
	// with the endpoint's host is used.
	TLSConfig *tls.Config
}

// Dial connects to e with a zero [Dialer].
func Dial(ctx context.Context, e Endpoint) (net.Conn, error) {
	var d Dialer
	return d.Dial(ctx, e)
}

// DialError is a failed Dial: what was dialed, and why, in the words of
// the deepest cause ("connection refused", not "dial tcp ...: connect:
// connection refused"). It unwraps to the cause, so errors.Is still sees
// the errno.
type DialError struct {
	Endpoint Endpoint
	Err      error
}

func (e *DialError) Error() string {
	var dnsErr *net.DNSError
	var ne net.Error
	switch {
	case errors.Is(e.Err, context.DeadlineExceeded), errors.As(e.Err, &ne) && ne.Timeout():
		return fmt.Sprintf("connect %s: timed out", e.Endpoint)
	case errors.As(e.Err, &dnsErr):
		return fmt.Sprintf("connect %s: cannot resolve %s: %s", e.Endpoint, e.Endpoint.Host, dnsErr.Err)
	}
	return fmt.Sprintf("connect %s: %s", e.Endpoint, Innermost(e.Err))
}

func (e *DialError) Unwrap() error { return e.Err }

// Innermost returns the text of the deepest error that err wraps (the
// first one where it wraps several): "connection refused", not
// "dial tcp ...: connect: connection refused".
func Innermost(err error) string {
	for {
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			if next := u.Unwrap(); next != nil {
				err = next
				continue
			}
		case interface{ Unwrap() []error }:
			if next := u.Unwrap(); len(next) > 0 {
				err = next[0]
				continue
			}
		}
		return err.Error()
	}
}

// Dial connects to e. For udp endpoints it returns a connected UDP socket.
// For tls endpoints it completes the handshake before it returns. Errors
// are *DialError.
func (d *Dialer) Dial(ctx context.Context, e Endpoint) (net.Conn, error) {
	c, err := d.dial(ctx, e)
	if err != nil && e.IsValid() && !e.IsStdio() {
		return nil, &DialError{Endpoint: e, Err: err}
	}
	return c, err
}

func (d *Dialer) dial(ctx context.Context, e Endpoint) (net.Conn, error) {
	if e.IsStdio() {
		return nil, ErrStdio
	}
	if !e.IsValid() {
		return nil, errors.New("endpoint: dial of an invalid endpoint")
	}
	if underInvalid(e.Host) {
		// RFC 6761 section 6.4: such names never resolve, and are never
		// sent to a DNS server.
		return nil, &net.OpError{Op: "dial", Net: e.Network(), Err: &net.DNSError{Err: "no such host", Name: e.Host, IsNotFound: true}}
	}
	c, err := d.Dialer.DialContext(ctx, e.Network(), e.Address())
	if err != nil || e.Scheme != TLS {
		return c, err
	}
	cfg := d.TLSConfig
	if cfg == nil {
		cfg = &tls.Config{ServerName: e.Host}
	} else if cfg.ServerName == "" {
		cfg = cfg.Clone()
		cfg.ServerName = e.Host
	}
	tc := tls.Client(c, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, &net.OpError{Op: "tls handshake", Net: "tcp", Addr: c.RemoteAddr(), Err: err}
	}
	return tc, nil
}

// ListenConfig opens listeners on endpoints. Its zero value works for every
// scheme but tls, which needs a TLSConfig with a certificate.
type ListenConfig struct {
	// ListenConfig holds the socket options.
	ListenConfig net.ListenConfig
	// TLSConfig is used by tls endpoints; it must hold a certificate.
	TLSConfig *tls.Config
}

// Listen listens on a stream endpoint (tcp*, unix, tls) with a zero
// [ListenConfig].
func Listen(ctx context.Context, e Endpoint) (net.Listener, error) {
	var lc ListenConfig
	return lc.Listen(ctx, e)
}

// Listen listens on a stream endpoint: tcp, tcp4, tcp6, unix or tls. For
// udp endpoints use [ListenConfig.ListenPacket].
func (lc *ListenConfig) Listen(ctx context.Context, e Endpoint) (net.Listener, error) {
	switch {
	case e.IsStdio():
		return nil, ErrStdio
	case !e.IsValid():
		return nil, errors.New("endpoint: listen on an invalid endpoint")
	case e.IsPacket():
		return nil, fmt.Errorf("endpoint: %s is a datagram endpoint: use ListenPacket", e)
	case e.Scheme == TLS && (lc.TLSConfig == nil || len(lc.TLSConfig.Certificates) == 0 && lc.TLSConfig.GetCertificate == nil):
		return nil, fmt.Errorf("endpoint: listening on %s needs a TLS certificate", e)
	}
	l, err := lc.ListenConfig.Listen(ctx, e.Network(), e.Address())
	if err != nil || e.Scheme != TLS {
		return l, err
	}
	return tls.NewListener(l, lc.TLSConfig), nil
}

// ListenPacket listens on a datagram endpoint (udp, udp4, udp6) with a zero
// [ListenConfig].
func ListenPacket(ctx context.Context, e Endpoint) (net.PacketConn, error) {
	var lc ListenConfig
	return lc.ListenPacket(ctx, e)
}

// ListenPacket listens on a datagram endpoint: udp, udp4 or udp6.
func (lc *ListenConfig) ListenPacket(ctx context.Context, e Endpoint) (net.PacketConn, error) {
	switch {
	case e.IsStdio():
		return nil, ErrStdio
	case !e.IsPacket():
		return nil, fmt.Errorf("endpoint: %s is not a datagram endpoint: use Listen", e)
	}
	return lc.ListenConfig.ListenPacket(ctx, e.Network(), e.Address())
}

// underInvalid reports whether host is in the special-use domain
// "invalid." (RFC 6761).
func underInvalid(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	return h == "invalid" || strings.HasSuffix(h, ".invalid")
}

// ListenBoth listens on TCP and UDP at one address, as DNS servers and the
// classic services do. network is tcp, tcp4 or tcp6; the datagram socket uses
// the matching udp network. When the address's port is 0 the kernel picks a
// port for UDP and the same port is then bound for TCP; if another socket
// already holds it for TCP, both are closed and a new port is tried, up to
// 32 times.
func (lc *ListenConfig) ListenBoth(ctx context.Context, network, address string) (net.Listener, net.PacketConn, error) {
	if !strings.HasPrefix(network, "tcp") {
		return nil, nil, fmt.Errorf("endpoint: ListenBoth needs a tcp network, not %q", network)
	}
	packetNet := "udp" + strings.TrimPrefix(network, "tcp")
	_, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, nil, err
	}
	tries := 1
	if port == "0" {
		tries = 32
	}
	for i := 0; ; i++ {
		pc, err := lc.ListenConfig.ListenPacket(ctx, packetNet, address)
		if err != nil {
			return nil, nil, err
		}
		l, err := lc.ListenConfig.Listen(ctx, network, pc.LocalAddr().String())
		if err == nil {
			return l, pc, nil
		}
		pc.Close()
		if i+1 >= tries || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, err
		}
	}
}
