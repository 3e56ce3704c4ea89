package netcat

import (
	"fmt"
	"io"
	"sync"
)

// Dumper writes hexdumps of traffic: a direction mark ('>' sent, '<'
// received), the offset in that direction, 16 bytes in hex and the same
// bytes as text. Offsets run on across calls, one count per direction.
// A nil *Dumper dumps nothing. Its methods are safe for concurrent use.
type Dumper struct {
	mu             sync.Mutex
	w              io.Writer
	sent, received int64
	buf            []byte
}

// NewDumper returns a Dumper that writes to w.
func NewDumper(w io.Writer) *Dumper { return &Dumper{w: w} }

// Sent dumps p as bytes sent.
func (d *Dumper) Sent(p []byte) { d.dump('>', p) }

// Received dumps p as bytes received.
func (d *Dumper) Received(p []byte) { d.dump('<', p) }

func (d *Dumper) dump(dir byte, p []byte) {
	if d == nil || len(p) == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	ctr := &d.received
	if dir == '>' {
		ctr = &d.sent
	}
	d.buf = AppendHexdump(d.buf[:0], dir, *ctr, p)
	*ctr += int64(len(p))
	d.w.Write(d.buf)
}

// AppendHexdump appends the hexdump of p to dst, marked with dir and
// numbered from off, and returns the extended buffer.
func AppendHexdump(dst []byte, dir byte, off int64, p []byte) []byte {
	const digits = "0123456789abcdef"
	for i := 0; i < len(p); i += 16 {
		row := p[i:min(i+16, len(p))]
		dst = fmt.Appendf(dst, "%c %08x  ", dir, off+int64(i))
		for j := range 16 {
			if j < len(row) {
				dst = append(dst, digits[row[j]>>4], digits[row[j]&15], ' ')
			} else {
				dst = append(dst, "   "...)
			}
			if j == 7 {
				dst = append(dst, ' ')
			}
		}
		dst = append(dst, " |"...)
		for _, c := range row {
			if c < 0x20 || c > 0x7e {
				c = '.'
			}
			dst = append(dst, c)
		}
		dst = append(dst, "|\n"...)
	}
	return dst
}

// AppendCRLF appends p to dst with each bare LF turned into CRLF; prevCR
// says whether the byte before p was CR, and the result says whether p's
// last byte is.
func AppendCRLF(dst, p []byte, prevCR bool) ([]byte, bool) {
	for _, b := range p {
		if b == '\n' && !prevCR {
			dst = append(dst, '\r')
		}
		dst = append(dst, b)
		prevCR = b == '\r'
	}
	return dst, prevCR
}
