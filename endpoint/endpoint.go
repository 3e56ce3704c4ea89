// Package endpoint parses, dials and listens on netkit's endpoint URLs.
//
// An endpoint names one end of a conversation as a URL:
//
//	tcp://example.com:80      TCP, IPv4 or IPv6 as the name resolves
//	tcp4://127.0.0.1:7        TCP over IPv4 only (tcp6:// for IPv6 only)
//	udp://[::1]:53            UDP (udp4://, udp6:// likewise)
//	tls://example.com:443     TLS over TCP
//	unix:///run/x.sock        a Unix stream socket (unix://@name is abstract)
//	-                         the program's standard input and output
//	example.com:80            a bare host:port means TCP
//
// Parsing is strict: ports are decimal numbers from 0 to 65535, IPv6
// literals must be in brackets, IPv4 literals may not have leading zeros
// (010.0.0.1 would be octal to some parsers and decimal to others), and no
// path, query or user part is accepted. Every error is a [*ParseError] that
// quotes the input and names the rule it broke.
//
// [Dial], [Listen] and [ListenPacket] open the endpoint with a context.
package endpoint

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Scheme is the kind of an endpoint: its URL scheme.
type Scheme string

// The schemes an endpoint may have.
const (
	TCP   Scheme = "tcp"
	TCP4  Scheme = "tcp4"
	TCP6  Scheme = "tcp6"
	UDP   Scheme = "udp"
	UDP4  Scheme = "udp4"
	UDP6  Scheme = "udp6"
	Unix  Scheme = "unix"
	TLS   Scheme = "tls"
	Stdio Scheme = "-"
)

// schemes lists the URL schemes in the order error messages name them.
var schemes = []Scheme{TCP, TCP4, TCP6, UDP, UDP4, UDP6, Unix, TLS}

// Endpoint is a parsed endpoint URL. It is a comparable value.
//
// The zero Endpoint is not valid; [Endpoint.IsValid] reports false for it.
type Endpoint struct {
	// Scheme is the kind of endpoint.
	Scheme Scheme
	// Host is a DNS name or an IP literal without brackets; an IPv6 zone is
	// kept ("fe80::1%eth0"). Empty means every local address when listening
	// and the local system when dialing. Unset for unix and stdio endpoints.
	Host string
	// Port is the port number. Unset for unix and stdio endpoints.
	Port uint16
	// Path is the socket path of a unix endpoint; a leading '@' names an
	// abstract socket.
	Path string
}

// ParseError reports an endpoint that does not parse. Its message quotes the
// input and names the rule that the input broke.
type ParseError struct {
	Input string // the text that was parsed
	What  string // what was wrong, such as `invalid port 66000`
	Rule  string // the rule it broke, such as "ports are 0-65535"
}

func (e *ParseError) Error() string {
	if e.Rule == "" {
		return fmt.Sprintf("%s in %q", e.What, e.Input)
	}
	return fmt.Sprintf("%s in %q: %s", e.What, e.Input, e.Rule)
}

// ErrStdio is returned when the stdio endpoint "-" is dialed or listened on:
// only the program that owns standard input and output can connect it.
var ErrStdio = errors.New(`endpoint: "-" is standard input and output; the caller connects it`)

// MustParse is like [Parse] but panics if s does not parse. It is meant for
// tests and for endpoints written into programs.
func MustParse(s string) Endpoint {
	e, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return e
}

// Parse parses an endpoint URL, a bare host:port (TCP), or "-" (stdio).
func Parse(s string) (Endpoint, error) {
	fail := func(what, rule string) (Endpoint, error) {
		return Endpoint{}, &ParseError{Input: s, What: what, Rule: rule}
	}
	if s == "" {
		return fail("empty endpoint", `write scheme://host:port, host:port or "-"`)
	}
	if s == "-" {
		return Endpoint{Scheme: Stdio}, nil
	}
	scheme, rest, found := strings.Cut(s, "://")
	if !found {
		// A bare host:port means TCP.
		scheme, rest = string(TCP), s
		if isDigits(s) {
			return fail("missing host", fmt.Sprintf("write host:port; for every local address write \":%s\"", s))
		}
	}
	sch, ok := lookupScheme(scheme)
	if !ok {
		return fail(fmt.Sprintf("unsupported scheme %q", scheme), "use "+schemeList())
	}
	if sch == Unix {
		return parseUnix(s, rest)
	}
	if strings.ContainsAny(rest, "/?#") {
		return fail("unexpected path, query or fragment", "an endpoint is scheme://host:port and nothing more")
	}
	if strings.Contains(rest, "@") {
		return fail("unexpected user information", "an endpoint is scheme://host:port and nothing more")
	}
	host, port, err := splitHostPort(s, rest)
	if err != nil {
		return Endpoint{}, err
	}
	p, err := parsePort(s, port)
	if err != nil {
		return Endpoint{}, err
	}
	return Endpoint{Scheme: sch, Host: host, Port: p}, nil
}

func lookupScheme(s string) (Scheme, bool) {
	for _, sch := range schemes {
		if string(sch) == s {
			return sch, true
		}
	}
	return "", false
}

func schemeList() string {
	var b strings.Builder
	for i, sch := range schemes {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(sch))
	}
	return b.String()
}

func parseUnix(s, path string) (Endpoint, error) {
	switch {
	case path == "":
		return Endpoint{}, &ParseError{Input: s, What: "missing socket path", Rule: "write unix:///path/to/socket"}
	case strings.IndexByte(path, 0) >= 0:
		return Endpoint{}, &ParseError{Input: s, What: "NUL byte in socket path", Rule: "a path may not contain NUL"}
	case len(path) > maxUnixPath:
		return Endpoint{}, &ParseError{Input: s, What: fmt.Sprintf("socket path of %d bytes", len(path)), Rule: fmt.Sprintf("Unix socket paths are at most %d bytes", maxUnixPath)}
	}
	return Endpoint{Scheme: Unix, Path: path}, nil
}

// maxUnixPath is the room in sockaddr_un.sun_path less the terminating NUL.
const maxUnixPath = 107

// splitHostPort splits rest into host and port text, validating the host.
func splitHostPort(s, rest string) (host, port string, err error) {
	fail := func(what, rule string) (string, string, error) {
		return "", "", &ParseError{Input: s, What: what, Rule: rule}
	}
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return fail("missing ']'", "IPv6 literals are written in brackets, as [::1]:80")
		}
		lit := rest[1:end]
		after := rest[end+1:]
		if after == "" {
			return fail("missing port", "write [address]:port")
		}
		if after[0] != ':' {
			return fail(fmt.Sprintf("unexpected %q after ']'", after), "write [address]:port")
		}
		// RFC 6874 writes the zone separator as %25 inside URLs.
		lit = strings.Replace(lit, "%25", "%", 1)
		a, perr := netip.ParseAddr(lit)
		if perr != nil {
			return fail(fmt.Sprintf("invalid IPv6 address %q", lit), trimNetipErr(perr))
		}
		if !a.Is6() {
			return fail(fmt.Sprintf("IPv4 address %q in brackets", lit), "brackets are for IPv6 literals only")
		}
		return lit, after[1:], nil
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return fail("missing port", "write host:port")
	}
	host, port = rest[:i], rest[i+1:]
	if strings.Contains(host, ":") {
		return fail("IPv6 address without brackets", fmt.Sprintf("write the address in brackets, as [%s]:%s", host, port))
	}
	if err := checkHost(s, host); err != nil {
		return "", "", err
	}
	return host, port, nil
}

// checkHost validates an unbracketed host: an IPv4 literal or a DNS name.
func checkHost(s, host string) error {
	if host == "" {
		return nil
	}
	if looksIPv4(host) {
		if _, err := netip.ParseAddr(host); err != nil {
			return &ParseError{Input: s, What: fmt.Sprintf("invalid IPv4 address %q", host), Rule: trimNetipErr(err)}
		}
		return nil
	}
	if len(host) > 253 {
		return &ParseError{Input: s, What: fmt.Sprintf("host name of %d characters", len(host)), Rule: "DNS names are at most 253 characters"}
	}
	for _, label := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if label == "" {
			return &ParseError{Input: s, What: fmt.Sprintf("empty label in host %q", host), Rule: "labels between dots may not be empty"}
		}
		if len(label) > 63 {
			return &ParseError{Input: s, What: fmt.Sprintf("label of %d characters in host %q", len(label), host), Rule: "DNS labels are at most 63 characters"}
		}
		for _, c := range []byte(label) {
			if !isNameByte(c) {
				return &ParseError{Input: s, What: fmt.Sprintf("invalid character %q in host %q", c, host), Rule: "host names are letters, digits, '-', '_' and '.'"}
			}
		}
	}
	return nil
}

// looksIPv4 reports whether h is made only of digits and dots, so that it can
// only have been meant as an IPv4 literal.
func looksIPv4(h string) bool {
	for _, c := range []byte(h) {
		if c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return strings.Contains(h, ".")
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func parsePort(s, port string) (uint16, error) {
	if port == "" {
		return 0, &ParseError{Input: s, What: "missing port", Rule: "write host:port with a port from 0 to 65535"}
	}
	if !isDigits(port) {
		return 0, &ParseError{Input: s, What: fmt.Sprintf("invalid port %q", port), Rule: "ports are decimal numbers 0-65535"}
	}
	n, err := strconv.ParseUint(port, 10, 64)
	if err != nil || n > 65535 {
		return 0, &ParseError{Input: s, What: "invalid port " + port, Rule: "ports are 0-65535"}
	}
	return uint16(n), nil
}

// trimNetipErr turns `ParseAddr("x"): reason` into `reason`: the input is
// already quoted by the ParseError around it.
func trimNetipErr(err error) string {
	msg := err.Error()
	if _, after, ok := strings.Cut(msg, "): "); ok {
		return after
	}
	return msg
}

// IsValid reports whether e was produced by a successful parse (or is
// otherwise well formed). The zero Endpoint is not valid.
func (e Endpoint) IsValid() bool {
	_, ok := lookupScheme(string(e.Scheme))
	return ok || e.Scheme == Stdio
}

// IsStdio reports whether e is "-", standard input and output.
func (e Endpoint) IsStdio() bool { return e.Scheme == Stdio }

// IsPacket reports whether e is datagram oriented (udp, udp4, udp6).
func (e Endpoint) IsPacket() bool {
	return e.Scheme == UDP || e.Scheme == UDP4 || e.Scheme == UDP6
}

// Network returns the network name that package net uses for e: "tcp",
// "tcp4", "tcp6", "udp", "udp4", "udp6" or "unix". A tls endpoint's network
// is "tcp". It returns "" for stdio and invalid endpoints.
func (e Endpoint) Network() string {
	switch e.Scheme {
	case TLS:
		return "tcp"
	case Stdio:
		return ""
	}
	if !e.IsValid() {
		return ""
	}
	return string(e.Scheme)
}

// Address returns the address in the form package net takes: host:port
// (with brackets for IPv6), or the socket path.
func (e Endpoint) Address() string {
	switch e.Scheme {
	case Unix:
		return e.Path
	case Stdio, "":
		return ""
	}
	return net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port)))
}

// Addr returns the host as an IP address, and false when the host is a name
// or empty.
func (e Endpoint) Addr() (netip.Addr, bool) {
	a, err := netip.ParseAddr(e.Host)
	return a, err == nil
}

// AddrPort returns the host and port when the host is an IP literal.
func (e Endpoint) AddrPort() (netip.AddrPort, bool) {
	a, ok := e.Addr()
	if !ok {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a, e.Port), true
}

// WithPort returns e with its port set to port.
func (e Endpoint) WithPort(port uint16) Endpoint {
	e.Port = port
	return e
}

// String returns e as a URL that [Parse] reads back to the same value.
func (e Endpoint) String() string {
	switch e.Scheme {
	case Stdio:
		return "-"
	case Unix:
		return "unix://" + e.Path
	case "":
		return "invalid endpoint"
	}
	host := e.Host
	if strings.Contains(host, ":") {
		// RFC 6874: inside a URL the zone separator is written %25, so
		// that the text parses back to the same zone.
		if addr, zone, ok := strings.Cut(host, "%"); ok {
			host = addr + "%25" + zone
		}
		host = "[" + host + "]"
	}
	return string(e.Scheme) + "://" + host + ":" + strconv.Itoa(int(e.Port))
}

// MarshalText implements [encoding.TextMarshaler] with the form of
// [Endpoint.String]. The zero Endpoint marshals as empty text.
func (e Endpoint) MarshalText() ([]byte, error) {
	if e == (Endpoint{}) {
		return []byte{}, nil
	}
	return []byte(e.String()), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler]. Empty text yields the
// zero Endpoint.
func (e *Endpoint) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*e = Endpoint{}
		return nil
	}
	p, err := Parse(string(text))
	if err != nil {
		return err
	}
	*e = p
	return nil
}

// FromAddr returns the endpoint of a socket address that package net
// reports, such as a listener's Addr. It returns false for addresses it does
// not know.
func FromAddr(a net.Addr) (Endpoint, bool) {
	switch a := a.(type) {
	case *net.TCPAddr:
		ap := a.AddrPort()
		return Endpoint{Scheme: TCP, Host: hostOf(ap.Addr()), Port: ap.Port()}, true
	case *net.UDPAddr:
		ap := a.AddrPort()
		return Endpoint{Scheme: UDP, Host: hostOf(ap.Addr()), Port: ap.Port()}, true
	case *net.UnixAddr:
		return Endpoint{Scheme: Unix, Path: a.Name}, true
	}
	return Endpoint{}, false
}

func hostOf(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.Unmap().String()
}
