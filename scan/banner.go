package scan

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"time"
)

// BannerRequest is one open port to read a banner from. HTTP ports are
// sent "HEAD / HTTP/1.0" first, since HTTP servers speak only when spoken to.
type BannerRequest struct {
	Addr netip.AddrPort
	HTTP bool
}

// Banners reads what each port says first, with up to parallel
// connections at once and timeout per port. It returns the sanitised
// banners by position ("" where the service said nothing in time). Like
// Scan, it connects from the caller's network namespace.
func Banners(ctx context.Context, reqs []BannerRequest, parallel int, timeout time.Duration) []string {
	out := make([]string, len(reqs))
	if parallel <= 0 {
		parallel = 64
	}
	ns := callerNetns()
	if ns != nil {
		defer ns.Close()
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(parallel, len(reqs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			moved, err := enterNetns(ns)
			if !moved {
				defer runtime.UnlockOSThread()
			}
			for i := range next {
				if err == nil {
					out[i] = banner(ctx, reqs[i], timeout)
				}
			}
		}()
	}
	for i := range reqs {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

func banner(ctx context.Context, r BannerRequest, timeout time.Duration) string {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", r.Addr.String())
	if err != nil {
		return ""
	}
	defer c.Close()
	deadline, _ := ctx.Deadline()
	c.SetDeadline(deadline)
	if r.HTTP {
		fmt.Fprintf(c, "HEAD / HTTP/1.0\r\nHost: %s\r\nUser-Agent: netkit-scan\r\n\r\n", r.Addr.Addr())
	}
	buf := make([]byte, 2048)
	n := 0
	for n < len(buf) {
		k, err := c.Read(buf[n:])
		n += k
		if err != nil || !r.HTTP && strings.ContainsAny(string(buf[:n]), "\n") {
			break
		}
	}
	return Sanitize(buf[:n], r.HTTP)
}

// Sanitize turns what a service sent into one printable line: the first
// line (for HTTP, the status line and the Server field), bytes outside
// printable ASCII as \xNN, at most 160 characters.
func Sanitize(b []byte, http bool) string {
	text := string(b)
	first, rest, _ := strings.Cut(text, "\n")
	first = strings.TrimRight(first, "\r")
	if http {
		for line := range strings.SplitSeq(rest, "\n") {
			line = strings.TrimRight(line, "\r")
			if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Server") {
				first += " | Server: " + strings.TrimSpace(v)
				break
			}
		}
	}
	var s strings.Builder
	for i := 0; i < len(first); i++ {
		c := first[i]
		if c >= 0x20 && c < 0x7f {
			s.WriteByte(c)
		} else {
			fmt.Fprintf(&s, `\x%02x`, c)
		}
		if s.Len() >= 160 {
			return s.String()[:157] + "..."
		}
	}
	return s.String()
}
