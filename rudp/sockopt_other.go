//go:build !linux

package rudp

import (
	"errors"
	"net"
	"syscall"

	"github.com/netkit-dev/netkit/internal/udpbuf"
)

func sizeBuffers(pc *net.UDPConn) { udpbuf.Size(pc, socketBuffer) }

func kernelDrops(*net.UDPConn) uint64 { return 0 }

func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
