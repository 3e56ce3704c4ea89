//go:build !linux

package netif

import "errors"

// ReadCounters is not available here.
func ReadCounters(name string) (Counters, error) {
	return Counters{}, errors.New("netif: interface counters are read from Linux's /sys/class/net")
}
