package ipcalc

//go:generate go run ./internal/genregistry

import (
	"net/netip"
)

// Flag is a yes/no answer of the IANA registries, which also say "N/A".
type Flag int8

// The values of a Flag.
const (
	NA  Flag = iota // not applicable
	Yes             // True in the registry
	No              // False in the registry
)

// String returns "true", "false" or "n/a".
func (f Flag) String() string {
	switch f {
	case Yes:
		return "true"
	case No:
		return "false"
	}
	return "n/a"
}

// MarshalJSON writes true, false or null.
func (f Flag) MarshalJSON() ([]byte, error) {
	switch f {
	case Yes:
		return []byte("true"), nil
	case No:
		return []byte("false"), nil
	}
	return []byte("null"), nil
}

// Entry is one block of an IANA special-purpose address registry (RFC
// 6890).
type Entry struct {
	Block              netip.Prefix `json:"block"`
	Name               string       `json:"name"`
	RFC                string       `json:"rfc"`
	Source             Flag         `json:"source"`
	Destination        Flag         `json:"destination"`
	Forwardable        Flag         `json:"forwardable"`
	Global             Flag         `json:"globally_reachable"`
	ReservedByProtocol Flag         `json:"reserved_by_protocol"`
}

// Registry returns the IPv4 or IPv6 special-purpose registry and the date
// of its snapshot.
func Registry(v6 bool) ([]Entry, string) {
	if v6 {
		return ipv6Special, ipv6SpecialSnapshot
	}
	return ipv4Special, ipv4SpecialSnapshot
}

// Special returns the most specific registry entry whose block holds all
// of p, and false when none does.
func Special(p netip.Prefix) (Entry, bool) {
	reg := ipv4Special
	if p.Addr().Is6() {
		reg = ipv6Special
	}
	var best Entry
	found := false
	for _, e := range reg {
		if e.Block.Bits() <= p.Bits() && e.Block.Contains(p.Addr()) && (!found || e.Block.Bits() > best.Block.Bits()) {
			best, found = e, true
		}
	}
	return best, found
}
