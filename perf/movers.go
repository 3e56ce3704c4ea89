package perf

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"
)

// pacer keeps a sender at a bitrate: it sleeps when ahead of schedule.
type pacer struct {
	start time.Time
	bps   float64
}

func (p pacer) wait(sentBytes int64) {
	if p.bps <= 0 {
		return
	}
	due := p.start.Add(time.Duration(float64(sentBytes) * 8 / p.bps * float64(time.Second)))
	if d := time.Until(due); d > 200*time.Microsecond {
		time.Sleep(d)
	}
}

// done reports whether a sender is finished: past end, or limit sent.
func done(end time.Time, limit, sent int64) bool {
	if limit > 0 {
		return sent >= limit
	}
	return !time.Now().Before(end)
}

// sendTCP writes blocks until end (or limit bytes), then shuts down the
// write side.
func sendTCP(ctx context.Context, c net.Conn, p *Params, limit int64, end time.Time, count *atomic.Int64) error {
	buf := make([]byte, p.Block)
	for i := range buf {
		buf[i] = byte('a' + i%26)
	}
	write := c.Write
	pc := pacer{time.Now(), p.Bitrate}
	var sent int64
	for ctx.Err() == nil && !done(end, limit, sent) {
		b := buf
		if limit > 0 && int64(len(b)) > limit-sent {
			b = b[:limit-sent]
		}
		n, err := write(b)
		sent += int64(n)
		count.Add(int64(n))
		if err != nil {
			return err
		}
		pc.wait(sent)
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// recvTCP reads until EOF and returns the times of the first and last
// bytes.
func recvTCP(c net.Conn, count *atomic.Int64) (first, last time.Time, err error) {
	// Reads of half a default block measured best on loopback: the
	// receiver drains while the sender is still filling.
	buf := make([]byte, 128<<10)
	read := c.Read
	for {
		n, err := read(buf)
		if n > 0 {
			last = time.Now()
			if first.IsZero() {
				first = last
			}
			count.Add(int64(n))
		}
		if errors.Is(err, io.EOF) {
			return first, last, nil
		}
		if err != nil {
			return first, last, err
		}
	}
}

// sendUDP sends numbered datagrams until end (or limit bytes) at the
// bitrate; write is the socket's send. It returns the datagrams sent.
func sendUDP(ctx context.Context, write func([]byte) error, p *Params, stream int, limit int64, end time.Time, count *atomic.Int64) (uint64, error) {
	buf := make([]byte, p.Block)
	cookie := p.cookieBytes()
	pc := pacer{time.Now(), p.Bitrate}
	var seq uint64
	var sent int64
	for ctx.Err() == nil && !done(end, limit, sent) {
		putHeader(buf, cookie, stream, 0, seq, time.Now())
		if err := write(buf); err != nil {
			if isNoBuffer(err) {
				time.Sleep(time.Millisecond) // the local queue is full: a local condition, not loss
				continue
			}
			return seq, err
		}
		seq++
		sent += int64(len(buf))
		count.Add(int64(len(buf)))
		pc.wait(sent)
	}
	return seq, nil
}

// tcpDataHeader opens a data connection: magic, cookie, stream number.
func tcpDataHeader(p *Params, stream int) []byte {
	c := p.cookieBytes()
	b := append([]byte(tcpMagic), c[:]...)
	return append(b, byte(stream>>8), byte(stream))
}
