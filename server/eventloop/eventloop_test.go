package eventloop_test

import (
	"testing"

	"github.com/netkit-dev/netkit/server"
	"github.com/netkit-dev/netkit/server/eventloop"
	"github.com/netkit-dev/netkit/server/servertest"
)

func engine(cfg server.Config, h server.Handler) servertest.Engine {
	return &eventloop.Server{Config: cfg, Handler: h}
}

func TestConformance(t *testing.T) {
	servertest.Run(t, engine)
}

// TestConformanceOneLoop runs the suite with a single loop, where every
// connection shares one thread, and a tiny read budget, so that fairness
// and resumption are exercised on every read.
func TestConformanceOneLoop(t *testing.T) {
	servertest.Run(t, func(cfg server.Config, h server.Handler) servertest.Engine {
		return &eventloop.Server{Config: cfg, Handler: h, Loops: 1, ReadBudget: 4096}
	})
}
