package mail

import (
	"crypto/tls"
	"net"
)

// tlsFor is cfg (or a default) with the server name of addr, when cfg
// names none.
func tlsFor(cfg *tls.Config, addr string) *tls.Config {
	c := cfg.Clone()
	if c == nil {
		c = &tls.Config{}
	}
	if c.ServerName == "" {
		c.ServerName, _, _ = net.SplitHostPort(addr)
	}
	return c
}
