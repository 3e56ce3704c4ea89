package dnsclient

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Transport is how queries reach a server.
type Transport string

const (
	UDP   Transport = "udp"   // UDP, retried over TCP when the answer is truncated
	TCP   Transport = "tcp"   // TCP only
	TLS   Transport = "tls"   // DNS over TLS (RFC 7858), port 853
	HTTPS Transport = "https" // DNS over HTTPS (RFC 8484)
)

// Server is a DNS server to ask.
type Server struct {
	Transport Transport
	// Addr is host:port (for HTTPS, the URL's host and port).
	Addr string
	// URL is the DoH endpoint, for HTTPS.
	URL string
}

func (s Server) String() string {
	if s.Transport == HTTPS {
		return s.URL
	}
	return string(s.Transport) + "://" + s.Addr
}

// ParseServer reads a server as dig users write it: an address
// (192.0.2.53, 2001:db8::53), host:port, [v6]:port, a host name, or a URL:
// udp://, tcp://, tls:// (port 853 by default) and https:// (DoH; the path
// defaults to /dns-query).
func ParseServer(s string) (Server, error) {
	bad := func(rule string) (Server, error) {
		return Server{}, fmt.Errorf("invalid server %q: %s", s, rule)
	}
	if s == "" {
		return bad("it is empty")
	}
	scheme, rest, hasScheme := strings.Cut(s, "://")
	if !hasScheme {
		scheme, rest = "udp", s
	}
	switch Transport(scheme) {
	case UDP, TCP, TLS:
	case HTTPS:
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return bad("a DoH server is https://host[:port]/path")
		}
		if u.Path == "" {
			u.Path = "/dns-query"
		}
		port := u.Port()
		if port == "" {
			port = "443"
		}
		return Server{Transport: HTTPS, Addr: net.JoinHostPort(u.Hostname(), port), URL: u.String()}, nil
	default:
		return bad("the scheme must be udp, tcp, tls or https")
	}
	defPort := "53"
	if Transport(scheme) == TLS {
		defPort = "853"
	}
	if strings.ContainsAny(rest, "/?#@") {
		return bad("give host, host:port or [IPv6]:port, without a path")
	}
	host, port := rest, defPort
	if a, err := netip.ParseAddr(rest); err == nil {
		host = a.String()
	} else if h, p, err := net.SplitHostPort(rest); err == nil {
		host, port = h, p
	} else if strings.Count(rest, ":") > 0 {
		return bad("IPv6 addresses with a port go in brackets: [2001:db8::53]:53")
	}
	if host == "" {
		return bad("it has no host")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return bad(fmt.Sprintf("port %q is not 1-65535", port))
	}
	return Server{Transport: Transport(scheme), Addr: net.JoinHostPort(host, port)}, nil
}
