package servertest_test

import (
	"testing"

	"github.com/netkit-dev/netkit/server"
	"github.com/netkit-dev/netkit/server/servertest"
)

// An engine passes the conformance suite from its own test: the suite
// starts it with each Handler and Config it checks.
func Example() {
	_ = func(t *testing.T) {
		servertest.Run(t, func(cfg server.Config, h server.Handler) servertest.Engine {
			return &server.Server{Config: cfg, Handler: h}
		})
	}
}
