//go:build !linux

package udpbuf

import "net"

func force(*net.UDPConn, int) bool { return false }
