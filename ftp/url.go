package ftp

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
)

// Location is a server and a path on it, from an ftp:// or ftps:// URL.
type Location struct {
	Addr     string   // host:port
	User     string   // from the URL, or ""
	Password string   // from the URL (discouraged: process lists show it), or ""
	Path     string   // the path, without the leading slash: relative to the login directory
	Security Security // Implicit for ftps://, else Plain
}

// ParseURL reads ftp://[user[:password]@]host[:port]/path, or ftps://
// (implicit TLS, port 990). As with curl, the path is relative to the
// login directory; write //abs for an absolute one.
func ParseURL(s string) (Location, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Location{}, fmt.Errorf("ftp: URL %q: %v", s, err)
	}
	var l Location
	port := "21"
	switch u.Scheme {
	case "ftp":
	case "ftps":
		l.Security, port = Implicit, "990"
	default:
		return Location{}, fmt.Errorf("ftp: URL %q: the scheme is ftp:// or ftps://", s)
	}
	if u.Hostname() == "" {
		return Location{}, fmt.Errorf("ftp: URL %q: no host", s)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Location{}, fmt.Errorf("ftp: URL %q: port %q is not 1-65535", s, p)
		}
		port = p
	}
	l.Addr = net.JoinHostPort(u.Hostname(), port)
	if u.User != nil {
		l.User = u.User.Username()
		l.Password, _ = u.User.Password()
	}
	l.Path = u.Path
	if len(l.Path) > 0 && l.Path[0] == '/' {
		l.Path = l.Path[1:]
	}
	return l, nil
}
