package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// bridgeOptions shape how a connection is joined to stdin and stdout, as
// netcat joins them.
type bridgeOptions struct {
	crlf       bool          // send LF from stdin as CRLF
	hex        bool          // hexdump both directions to stderr
	sendOnly   bool          // do not read from the peer
	recvOnly   bool          // do not read stdin
	noShutdown bool          // keep the write side open after stdin's EOF
	quit       time.Duration // after stdin's EOF, wait this long for the peer; <0: until it closes
	idle       time.Duration // give up when nothing moved for this long; 0: never
}

// bridge copies stdin to c and c to stdout until the exchange is over:
// both sides have finished sending, or stdin ended and the -q wait ran
// out. It closes c.
func (a *app) bridge(ctx context.Context, c net.Conn, o bridgeOptions) error {
	defer c.Close()
	var last atomic.Int64
	touch := func() { last.Store(time.Now().UnixNano()) }
	touch()
	dump := a.newDumper(o.hex)

	peerDone := make(chan error, 1)
	if !o.sendOnly {
		go func() {
			buf := make([]byte, 64<<10)
			var off int64
			for {
				n, err := c.Read(buf)
				if n > 0 {
					touch()
					dump.dump('<', off, buf[:n])
					off += int64(n)
					if _, werr := a.io.Out.Write(buf[:n]); werr != nil {
						peerDone <- fmt.Errorf("write stdout: %w", werr)
						return
					}
				}
				if err != nil {
					if errors.Is(err, io.EOF) {
						err = nil
					}
					peerDone <- err
					return
				}
			}
		}()
	}
	stdinDone := make(chan error, 1)
	if !o.recvOnly {
		go func() {
			var err error
			if isPacketConn(c) {
				err = sendDatagrams(c, a.io.In, o, dump, touch)
			} else {
				err = sendStream(c, a.io.In, o, dump, touch)
			}
			if err == nil && !o.noShutdown {
				if cw, ok := c.(interface{ CloseWrite() error }); ok {
					cw.CloseWrite()
				}
			}
			stdinDone <- err
		}()
	}
	var idle <-chan time.Time
	if o.idle > 0 {
		t := time.NewTicker(max(o.idle/4, 10*time.Millisecond))
		defer t.Stop()
		idle = t.C
	}
	var quit <-chan time.Time
	sending := !o.recvOnly
	for {
		select {
		case err := <-peerDone:
			// The peer has finished sending. What stdin still has must not
			// be lost, so wait for it to end (or for a write to fail, once
			// the peer has closed for good), unless stdin is a terminal,
			// where netcat's habit of leaving at once is what people want.
			if err != nil || !sending || a.io.InTTY {
				return err
			}
			peerDone = nil
		case err := <-stdinDone:
			sending = false
			if peerDone == nil {
				return err
			}
			if err != nil || o.sendOnly {
				return err
			}
			if o.quit == 0 {
				return nil
			}
			if o.quit > 0 {
				t := time.NewTimer(o.quit)
				defer t.Stop()
				quit = t.C
			}
		case <-quit:
			return nil
		case <-idle:
			if time.Since(time.Unix(0, last.Load())) >= o.idle {
				return fmt.Errorf("connection to %s idle for %s (-i)", c.RemoteAddr(), o.idle)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func isPacketConn(c net.Conn) bool {
	_, ok := c.(*net.UDPConn)
	return ok
}

// sendStream copies stdin to a stream connection.
func sendStream(c net.Conn, in io.Reader, o bridgeOptions, d *dumper, touch func()) error {
	buf := make([]byte, 64<<10)
	var out []byte
	var off int64
	prevCR := false
	for {
		n, err := in.Read(buf)
		if n > 0 {
			p := buf[:n]
			if o.crlf {
				out, prevCR = toCRLF(out[:0], p, prevCR)
				p = out
			}
			d.dump('>', off, p)
			off += int64(len(p))
			if _, werr := c.Write(p); werr != nil {
				return werr
			}
			touch()
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read stdin: %w", err)
		}
	}
}

// toCRLF appends p to dst with each bare LF turned into CRLF; prevCR
// carries whether the last byte of the previous chunk was CR.
func toCRLF(dst, p []byte, prevCR bool) ([]byte, bool) {
	for _, b := range p {
		if b == '\n' && !prevCR {
			dst = append(dst, '\r')
		}
		dst = append(dst, b)
		prevCR = b == '\r'
	}
	return dst, prevCR
}

// maxDatagram is the largest UDP payload over IPv4.
const maxDatagram = 65507

var errLongDatagram = fmt.Errorf("a stdin line is longer than %d bytes, the largest UDP datagram: split the line, or send over tcp://", maxDatagram)

// sendDatagrams sends each line of stdin (with its newline) as one
// datagram.
func sendDatagrams(c net.Conn, in io.Reader, o bridgeOptions, d *dumper, touch func()) error {
	r := bufio.NewReaderSize(in, maxDatagram+1)
	var off int64
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return errLongDatagram
		}
		if len(line) > 0 {
			p := line
			if o.crlf {
				p, _ = toCRLF(nil, line, false)
			}
			if len(p) > maxDatagram {
				return errLongDatagram
			}
			d.dump('>', off, p)
			off += int64(len(p))
			if _, werr := c.Write(p); werr != nil {
				return werr
			}
			touch()
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read stdin: %w", err)
		}
	}
}

// dumper writes hexdumps of traffic to stderr: a direction mark (> sent,
// < received), the offset in that direction, 16 bytes in hex, and the
// bytes as text.
type dumper struct {
	on bool
	mu sync.Mutex
	w  io.Writer
	// offsets by direction, for dumpNext
	sent, received int64
}

func (a *app) newDumper(on bool) *dumper { return &dumper{on: on, w: a.io.Err} }

func (d *dumper) dump(dir byte, off int64, p []byte) {
	if !d.on {
		return
	}
	var b strings.Builder
	hexdump(&b, dir, off, p)
	d.mu.Lock()
	io.WriteString(d.w, b.String())
	d.mu.Unlock()
}

// dumpNext dumps p at the running offset of its direction, for callers
// that mix several peers into one stream (listen -k, UDP): the offset
// then counts every peer's bytes in that direction.
func (d *dumper) dumpNext(dir byte, p []byte) {
	if !d.on {
		return
	}
	d.mu.Lock()
	ctr := &d.received
	if dir == '>' {
		ctr = &d.sent
	}
	off := *ctr
	*ctr += int64(len(p))
	var b strings.Builder
	hexdump(&b, dir, off, p)
	io.WriteString(d.w, b.String())
	d.mu.Unlock()
}

func hexdump(b *strings.Builder, dir byte, off int64, p []byte) {
	for i := 0; i < len(p); i += 16 {
		row := p[i:min(i+16, len(p))]
		fmt.Fprintf(b, "%c %08x  ", dir, off+int64(i))
		for j := range 16 {
			if j < len(row) {
				fmt.Fprintf(b, "%02x ", row[j])
			} else {
				b.WriteString("   ")
			}
			if j == 7 {
				b.WriteByte(' ')
			}
		}
		b.WriteString(" |")
		for _, c := range row {
			if c < 0x20 || c > 0x7e {
				c = '.'
			}
			b.WriteByte(c)
		}
		b.WriteString("|\n")
	}
}
