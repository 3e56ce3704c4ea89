package impair

import (
	"context"
	"fmt"
	"net"

	"github.com/netkit-dev/netkit/endpoint"
)

// ListenAndServe binds listen (a udp endpoint), tells ready where, and
// serves the proxy there until ctx ends.
func ListenAndServe(ctx context.Context, p *Proxy, listen endpoint.Endpoint, ready func(net.Addr)) error {
	if !listen.IsPacket() {
		return &ParseError{listen.String(), "impair relays UDP: give udp://, udp4:// or udp6:// endpoints"}
	}
	pc, err := endpoint.ListenPacket(ctx, listen)
	if err != nil {
		return err
	}
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		pc.Close()
		return fmt.Errorf("impair: %s is not a UDP socket", listen)
	}
	if ready != nil {
		ready(uc.LocalAddr())
	}
	return p.Serve(ctx, uc)
}
