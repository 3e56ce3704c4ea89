//go:build !linux

package rudp

import (
	"errors"
	"net"
	"syscall"
)

func sizeBuffers(pc *net.UDPConn) {
	pc.SetReadBuffer(socketBuffer)
	pc.SetWriteBuffer(socketBuffer)
}

func kernelDrops(*net.UDPConn) uint64 { return 0 }

func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
