//go:build !linux

package perf

import (
	"context"
	"net"
	"time"
)

// epollEcho is Linux's; elsewhere the goroutine engine runs.
func epollEcho(context.Context, EchoConfig, []net.Conn, net.Addr, time.Time, time.Time, *tally) (string, bool) {
	return "", false
}
