package cli

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// digOption takes dig's +options that have a meaning here, and refuses
// the others by name rather than asking for a name such as "+short.".
func (o *lookupOptions) digOption(opt string) error {
	switch strings.ToLower(opt) {
	case "short":
		o.short = true
	case "tcp", "vc":
		o.tcp = true
	case "notcp", "novc":
		o.tcp = false
	case "noall":
		o.noall = true
	case "answer":
		o.answer = true
	case "trace":
		o.trace = true
	case "dnssec":
		o.dnssec = true
	case "nsid":
		o.nsid = true
	case "cookie":
		o.cookie = true
	case "norecurse", "norec":
		o.norecurse = true
	case "recurse", "rec":
		o.norecurse = false
	case "noedns":
		o.noEDNS = true
	default:
		return usageError("dig's +%s is not supported; netkit dns lookup takes +short, +tcp, +noall +answer, +trace, +dnssec, +nsid, +cookie, +norecurse and +noedns (or the --flags of those names)", opt)
	}
	return nil
}

// withPort adds -p's port to a server written without one.
func withPort(s string, port uint16) string {
	if port == 0 || strings.Contains(s, "://") {
		return s
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(a, port).String()
	}
	if !strings.Contains(s, ":") {
		return net.JoinHostPort(s, strconv.Itoa(int(port)))
	}
	return s
}
