package remote

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/netkit-dev/netkit/internal/accept"
	"github.com/netkit-dev/netkit/relay"
)

// Forward is a port forward as ssh's -L and -R write it:
// [bind:]port:host:hostport, IPv6 addresses in brackets.
type Forward struct {
	Listen string // host:port where connections are taken
	To     string // host:port they are relayed to
}

// ParseForward reads [bind:]port:host:hostport; the bind address is
// 127.0.0.1 when left out, as with ssh's default GatewayPorts no.
func ParseForward(s string) (Forward, error) {
	var parts []string
	rest := s
	for rest != "" {
		if rest[0] == '[' {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return Forward{}, fmt.Errorf("remote: forward %q: an unclosed [", s)
			}
			parts = append(parts, rest[1:end])
			rest = rest[end+1:]
			if rest != "" && rest[0] != ':' {
				return Forward{}, fmt.Errorf("remote: forward %q: ']' not followed by ':'", s)
			}
			rest = strings.TrimPrefix(rest, ":")
			continue
		}
		field, more, found := strings.Cut(rest, ":")
		parts = append(parts, field)
		rest = more
		if found && rest == "" {
			parts = append(parts, "")
		}
	}
	if len(parts) == 3 {
		parts = append([]string{"127.0.0.1"}, parts...)
	}
	if len(parts) != 4 {
		return Forward{}, fmt.Errorf("remote: forward %q: not [bind:]port:host:hostport", s)
	}
	for _, i := range []int{1, 3} {
		n, err := strconv.Atoi(parts[i])
		if err != nil || n < 0 || n > 65535 || (i == 3 && n == 0) {
			return Forward{}, fmt.Errorf("remote: forward %q: port %q is not 0-65535", s, parts[i])
		}
	}
	if parts[2] == "" {
		return Forward{}, fmt.Errorf("remote: forward %q: no target host", s)
	}
	if parts[0] == "" || parts[0] == "*" {
		parts[0] = "0.0.0.0"
	}
	return Forward{Listen: net.JoinHostPort(parts[0], parts[1]), To: net.JoinHostPort(parts[2], parts[3])}, nil
}

// Local forwards connections made to f.Listen on this machine through
// the SSH connection to f.To as seen from the server (ssh -L). It returns
// once listening, with the listener's address; the forward runs until ctx
// ends.
func (c *Client) Local(ctx context.Context, f Forward) (net.Addr, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", f.Listen)
	if err != nil {
		return nil, fmt.Errorf("remote: -L %s: %w", f.Listen, err)
	}
	go serveForward(ctx, ln, func(ctx context.Context) (net.Conn, error) {
		return c.DialContext(ctx, "tcp", f.To)
	})
	return ln.Addr(), nil
}

// Remote asks the server to listen on f.Listen and forwards the
// connections it takes there to f.To as seen from this machine (ssh -R).
func (c *Client) Remote(ctx context.Context, f Forward) (net.Addr, error) {
	ln, err := c.Listen("tcp", f.Listen)
	if err != nil {
		return nil, fmt.Errorf("remote: -R %s: the server refused to listen: %w", f.Listen, err)
	}
	go serveForward(ctx, ln, func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", f.To)
	})
	return ln.Addr(), nil
}

func serveForward(ctx context.Context, ln net.Listener, dial func(context.Context) (net.Conn, error)) {
	accept.Serve(ctx, ln, func(in net.Conn) {
		out, err := dial(ctx)
		if err != nil {
			return
		}
		relay.Relay(ctx, in, out, relay.Config{})
	})
}
