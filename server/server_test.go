package server_test

import (
	"testing"

	"github.com/netkit-dev/netkit/server"
	"github.com/netkit-dev/netkit/server/servertest"
)

func goroutineEngine(cfg server.Config, h server.Handler) servertest.Engine {
	return &server.Server{Config: cfg, Handler: h}
}

func TestConformance(t *testing.T) {
	servertest.Run(t, goroutineEngine)
}

func TestPacketConformance(t *testing.T) {
	servertest.RunPacket(t)
}
