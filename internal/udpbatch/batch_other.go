//go:build !(linux && (amd64 || arm64))

package udpbatch

import (
	"context"
	"errors"
	"net"
	"syscall"
)

// Serve reads datagrams from uc one at a time and calls h for each, until
// ctx ends (it returns nil) or the socket fails (it returns the error).
func Serve(ctx context.Context, uc *net.UDPConn, cfg Config, h Handler) error {
	slot, _ := cfg.sizes()
	buf := make([]byte, slot)
	w := newWriter(1, func(w *Writer) {
		for i := range w.n {
			n, err := uc.WriteToUDPAddrPort(w.bufs[i], w.to[i])
			switch {
			case err != nil && cfg.SendError != nil:
				cfg.SendError(w.to[i], err)
			case err == nil && cfg.Sent != nil:
				cfg.Sent(1, n)
			}
		}
		w.n = 0
	})
	for {
		n, _, flags, from, err := uc.ReadMsgUDPAddrPort(buf, nil)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() || errors.Is(err, syscall.ECONNREFUSED) {
				continue
			}
			return err
		}
		h(w, buf[:n], from, flags&msgTrunc != 0)
		w.Flush()
	}
}
