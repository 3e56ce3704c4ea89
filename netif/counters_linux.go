package netif

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ReadCounters reads an interface's counters from /sys/class/net.
func ReadCounters(name string) (Counters, error) {
	if name == "" || strings.ContainsAny(name, "/") || name == "." || name == ".." {
		return Counters{}, fmt.Errorf("netif: %q is not an interface name", name)
	}
	dir := filepath.Join("/sys/class/net", name)
	var c Counters
	var first error
	num := func(file string) uint64 {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			if first == nil {
				first = err
			}
			return 0
		}
		n, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		return n
	}
	for _, f := range []struct {
		p    *uint64
		file string
	}{
		{&c.RxBytes, "rx_bytes"}, {&c.TxBytes, "tx_bytes"}, {&c.RxPackets, "rx_packets"}, {&c.TxPackets, "tx_packets"},
		{&c.RxErrors, "rx_errors"}, {&c.TxErrors, "tx_errors"}, {&c.RxDropped, "rx_dropped"}, {&c.TxDropped, "tx_dropped"},
		{&c.Multicast, "multicast"},
	} {
		*f.p = num("statistics/" + f.file)
	}
	if first != nil {
		return Counters{}, fmt.Errorf("netif: counters of %s: %w", name, first)
	}
	// speed is -1 or unreadable (EINVAL) where the driver does not know.
	if b, err := os.ReadFile(filepath.Join(dir, "speed")); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 {
			c.SpeedMbps = uint64(n)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "flags")); err == nil {
		if f, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(string(b)), "0x"), 16, 32); err == nil {
			c.Promiscuous = f&0x100 != 0 // IFF_PROMISC
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "ifalias")); err == nil {
		c.Alias = strings.TrimSpace(string(b))
	}
	return c, nil
}
