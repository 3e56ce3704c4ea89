//go:build !linux

package route

import "errors"

// System is available on Linux only.
func System() ([]Route, error) {
	return nil, errors.New("route: reading the routing table is supported on Linux only")
}

// SystemRules reads the kernel's rules; on this system it returns the
// default rules.
func SystemRules() ([]Rule, error) { return append(DefaultRules(false), DefaultRules(true)...), nil }
