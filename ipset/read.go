package ipset

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/netip"
	"os"
)

// bom is the UTF-8 byte-order mark some editors put at a file's start.
var bom = []byte("\xef\xbb\xbf")

// LineError is a bad line of a list: where it is and what is wrong.
type LineError struct {
	Name string // the file's name, or "-" for stdin
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.Name, e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ReadList adds to b every entry of a list: one address, prefix or range
// per line; '#' or ';' starts a comment (the Spamhaus DROP lists write
// "192.0.2.0/24 ; SBL123"); blank lines and a UTF-8 byte-order mark at
// the start are skipped. Zones have no
// place in a set and are errors. A bad line stops the reading with a
// *LineError, unless skip is set: then skip is told of it and reading goes
// on. It does not allocate per line.
func (b *Builder) ReadList(r io.Reader, name string, skip func(*LineError)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	n := 0
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return &LineError{Name: name, Line: n + 1, Err: errors.New("line longer than 64 KiB")}
		}
		if len(line) > 0 {
			n++
			if n == 1 {
				line = bytes.TrimPrefix(line, bom)
			}
			if i := bytes.IndexAny(line, "#;"); i >= 0 {
				line = line[:i]
			}
			line = trimBlanks(bytes.TrimRight(line, "\n"))
			if addr, bits, _, ok := fastV4(line); ok {
				b.v4 = append(b.v4, v4SpanOf(addr, bits))
				b.sorted = false
			} else if len(line) > 0 {
				e, perr := ParseEntryBytes(line)
				if perr == nil && e.Kind == KindAddr && e.Addr.Zone() != "" {
					perr = &ParseError{Input: string(line), Msg: "zones have no place in address sets"}
				}
				if perr != nil {
					le := &LineError{Name: name, Line: n, Err: perr}
					if skip == nil {
						return le
					}
					skip(le)
				} else {
					b.AddRange(e.Range)
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
}

// CountList counts the entries of a list by family, roughly and fast: a
// line with a ':' counts as IPv6, any other non-blank line as IPv4. It is
// meant for sizing a Builder with Grow before ReadList.
func CountList(r io.Reader) (v4, v6 int, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if len(trimBlanks(bytes.TrimRight(line, "\n"))) > 0 {
			if bytes.IndexByte(line, ':') >= 0 {
				v6++
			} else {
				v4++
			}
		}
		switch {
		case err == io.EOF:
			return v4, v6, nil
		case errors.Is(err, bufio.ErrBufferFull):
			// A long line: skip the rest of it.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err == io.EOF {
				return v4, v6, nil
			}
		}
		if err != nil && err != io.EOF {
			return v4, v6, err
		}
	}
}

// Finish returns the set built and empties the Builder, handing its memory
// to the Set instead of copying it.
func (b *Builder) Finish() Set {
	b.normalize()
	s := Set{v4: b.v4, v6: b.v6}
	*b = Builder{}
	return s
}

// All yields the set's prefixes in order, IPv4 first: the same as
// Prefixes without building the slice.
func (s Set) All() iter.Seq[netip.Prefix] {
	return func(yield func(netip.Prefix) bool) {
		var buf []netip.Prefix
		for _, x := range s.v4 {
			buf = appendPrefixes(buf[:0], u128{0, uint64(x.lo)}, u128{0, uint64(x.hi)}, true)
			for _, p := range buf {
				if !yield(p) {
					return
				}
			}
		}
		for _, x := range s.v6 {
			buf = appendPrefixes(buf[:0], x.lo, x.hi, false)
			for _, p := range buf {
				if !yield(p) {
					return
				}
			}
		}
	}
}

// AllRanges yields the set's ranges in order, IPv4 first.
func (s Set) AllRanges() iter.Seq[Range] {
	return func(yield func(Range) bool) {
		for _, x := range s.v4 {
			if !yield(Range{u128{0, uint64(x.lo)}.addr(true), u128{0, uint64(x.hi)}.addr(true)}) {
				return
			}
		}
		for _, x := range s.v6 {
			if !yield(Range{x.lo.addr(false), x.hi.addr(false)}) {
				return
			}
		}
	}
}

// ReadFile adds the addresses of the list in the file at path, as
// ReadList does. A regular file is counted first and the builder grown to
// fit, since a second pass over a file in the page cache costs less than
// the copies and memory of growing slices.
func (b *Builder) ReadFile(path string, skip func(*LineError)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	// Counting first pays only for a clean list: with skip set the file
	// may be mostly junk, and a count of its lines would reserve memory
	// for entries that are not there.
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && skip == nil {
		if n4, n6, err := CountList(f); err == nil {
			b.Grow(n4, n6)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("ipset: read %s: %w", path, err)
		}
	}
	return b.ReadList(f, path, skip)
}
