package netcat

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"time"
)

// Options shape how a connection is joined to the streams. The zero value
// is netcat's default: both directions, the write side shut down when the
// input ends, then wait for the peer to close.
type Options struct {
	// CRLF sends each bare LF of the input as CRLF.
	CRLF bool
	// SendOnly ignores what the peer sends; RecvOnly ignores the input.
	SendOnly, RecvOnly bool
	// NoShutdown keeps the write side open after the input ends.
	NoShutdown bool
	// Quit bounds the wait for the peer once the input has ended. If
	// zero, Bridge waits until the peer closes; a negative value leaves as
	// soon as the input ends (netcat's -q 0).
	Quit time.Duration
	// Idle gives up when nothing has moved either way for this long. If
	// zero, never.
	Idle time.Duration
	// Interactive says the input is a terminal: Bridge then returns as
	// soon as the peer has finished sending, as netcat does, instead of
	// waiting for the input to end so that none of it is lost.
	Interactive bool
	// Dump, if set, hexdumps both directions.
	Dump *Dumper
}

// MaxDatagram is the largest UDP payload over IPv4: the longest input line
// that a datagram bridge sends.
const MaxDatagram = 65507

// ErrLongLine is returned when an input line does not fit in one datagram.
var ErrLongLine = fmt.Errorf("netcat: an input line is longer than %d bytes, the largest UDP datagram: split the line, or send over a stream", MaxDatagram)

// ErrIdle is returned when nothing moved for Options.Idle.
var ErrIdle = errors.New("netcat: idle timeout")

// Bridge copies in to c and c to out until the exchange is over: both
// sides have finished sending, or the input ended and the Quit wait ran
// out. A *net.UDPConn is fed one datagram per input line. Bridge closes
// c. A refused UDP send (no one listens at the peer's port) is reported
// as an error that wraps syscall.ECONNREFUSED.
func Bridge(ctx context.Context, c net.Conn, in io.Reader, out io.Writer, o Options) error {
	defer c.Close()
	err := bridge(ctx, c, in, out, o)
	if _, ok := c.(*net.UDPConn); ok && errors.Is(err, syscall.ECONNREFUSED) && ctx.Err() == nil {
		return fmt.Errorf("send to %s: port unreachable: %w", c.RemoteAddr(), err)
	}
	return err
}

func bridge(ctx context.Context, c net.Conn, in io.Reader, out io.Writer, o Options) error {
	var last atomic.Int64
	touch := func() { last.Store(time.Now().UnixNano()) }
	touch()

	peerDone := make(chan error, 1)
	if !o.SendOnly {
		go func() { peerDone <- receive(c, out, o.Dump, touch) }()
	}
	inputDone := make(chan error, 1)
	if !o.RecvOnly {
		go func() {
			var err error
			if _, ok := c.(*net.UDPConn); ok {
				err = sendLines(c, in, o, touch)
			} else {
				err = sendStream(c, in, o, touch)
			}
			if err == nil && !o.NoShutdown {
				if cw, ok := c.(interface{ CloseWrite() error }); ok {
					cw.CloseWrite()
				}
			}
			inputDone <- err
		}()
	}
	var idle <-chan time.Time
	if o.Idle > 0 {
		t := time.NewTicker(max(o.Idle/4, 10*time.Millisecond))
		defer t.Stop()
		idle = t.C
	}
	var quit <-chan time.Time
	sending := !o.RecvOnly
	for {
		select {
		case err := <-peerDone:
			// The peer has finished sending. What the input still has must
			// not be lost, so wait for it to end (or for a write to fail,
			// once the peer has closed for good), unless the input is a
			// terminal, where leaving at once is what people want.
			if err != nil || !sending || o.Interactive {
				return err
			}
			peerDone = nil
		case err := <-inputDone:
			sending = false
			if peerDone == nil || err != nil || o.SendOnly {
				return err
			}
			switch {
			case o.Quit < 0:
				return nil
			case o.Quit > 0:
				t := time.NewTimer(o.Quit)
				defer t.Stop()
				quit = t.C
			}
		case <-quit:
			return nil
		case <-idle:
			if time.Since(time.Unix(0, last.Load())) >= o.Idle {
				return fmt.Errorf("connection to %s idle for %s: %w", c.RemoteAddr(), o.Idle, ErrIdle)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// receive copies c to out until c ends.
func receive(c net.Conn, out io.Writer, d *Dumper, touch func()) error {
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			touch()
			d.Received(buf[:n])
			if _, werr := out.Write(buf[:n]); werr != nil {
				return fmt.Errorf("write output: %w", werr)
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// sendStream copies the input to a stream connection.
func sendStream(c net.Conn, in io.Reader, o Options, touch func()) error {
	buf := make([]byte, 64<<10)
	var crlf []byte
	prevCR := false
	for {
		n, err := in.Read(buf)
		if n > 0 {
			p := buf[:n]
			if o.CRLF {
				crlf, prevCR = AppendCRLF(crlf[:0], p, prevCR)
				p = crlf
			}
			o.Dump.Sent(p)
			if _, werr := c.Write(p); werr != nil {
				return werr
			}
			touch()
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read input: %w", err)
		}
	}
}

// sendLines sends each line of the input (with its newline) as one
// datagram.
func sendLines(c net.Conn, in io.Reader, o Options, touch func()) error {
	return eachLine(in, o.CRLF, MaxDatagram, func(p []byte) error {
		o.Dump.Sent(p)
		if _, err := c.Write(p); err != nil {
			return err
		}
		touch()
		return nil
	})
}

// eachLine calls fn with each line of in, newline included. With limit
// > 0 a line (after the CRLF conversion, if crlf) may be at most limit
// bytes, or eachLine returns ErrLongLine; with 0 lines may be any length.
func eachLine(in io.Reader, crlf bool, limit int, fn func([]byte) error) error {
	size := 64 << 10
	if limit > 0 {
		size = limit + 1
	}
	r := bufio.NewReaderSize(in, size)
	var conv, long []byte
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if limit > 0 {
				return ErrLongLine
			}
			long = append(long, line...)
			continue
		}
		if len(long) > 0 {
			long = append(long, line...)
			line, long = long, long[:0]
		}
		if len(line) > 0 {
			if crlf {
				conv, _ = AppendCRLF(conv[:0], line, false)
				line = conv
			}
			if limit > 0 && len(line) > limit {
				return ErrLongLine
			}
			if ferr := fn(line); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read input: %w", err)
		}
	}
}
