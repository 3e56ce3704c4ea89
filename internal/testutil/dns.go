package testutil

import (
	"net"
	"testing"

	"github.com/miekg/dns"
)

// DNS serves h on UDP and TCP of one loopback port until the test ends and
// returns the address.
func DNS(t testing.TB, h dns.Handler) string {
	t.Helper()
	pc := ListenPacket(t, "udp4")
	l, err := net.Listen("tcp4", pc.LocalAddr().String())
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
