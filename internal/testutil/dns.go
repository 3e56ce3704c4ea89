package testutil

import (
	"context"
	"testing"

	"github.com/miekg/dns"

	"github.com/netkit-dev/netkit/endpoint"
)

// DNS serves h on UDP and TCP of one loopback port until the test ends and
// returns the address.
func DNS(t testing.TB, h dns.Handler) string {
	t.Helper()
	var lc endpoint.ListenConfig
	l, pc, err := lc.ListenBoth(context.Background(), "tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}} {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		go s.ActivateAndServe()
		<-started
		t.Cleanup(func() { s.Shutdown() })
	}
	return pc.LocalAddr().String()
}
