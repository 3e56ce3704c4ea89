package extract

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// Limits bound the work of one extraction. The zero value gives the
// defaults.
type Limits struct {
	// MaxInput is the most bytes read from the body. If zero, 256 MiB
	// for JSON and 8 MiB for HTML and XML, whose trees cost a hundred
	// times their text in memory (a page of 8 MiB of tiny elements parses
	// to a million nodes).
	MaxInput int64
	// Timeout stops a jq program that runs this long. If zero, 60s.
	Timeout time.Duration
}

func (l Limits) maxInput(def int64) int64 {
	if l.MaxInput > 0 {
		return l.MaxInput
	}
	return def
}

const (
	defaultMaxJSON   = 256 << 20
	defaultMaxMarkup = 8 << 20
)

func (l Limits) timeout() time.Duration {
	if l.Timeout > 0 {
		return l.Timeout
	}
	return time.Minute
}

// ErrTooLarge is the error for input past Limits.MaxInput.
var ErrTooLarge = errors.New("extract: the input is over the limit")

// TooLargeError says how large the input was allowed to be.
type TooLargeError struct{ Limit int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the body is over the limit of %d bytes (raise it with --max-body)", e.Limit)
}

func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// bounded reads r up to n bytes and fails past them.
type bounded struct {
	r    io.Reader
	left int64
	lim  int64
}

func bound(r io.Reader, n int64) *bounded { return &bounded{r: r, left: n, lim: n} }

func (b *bounded) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more says whether the input ends exactly at the limit.
		var one [1]byte
		n, err := b.r.Read(one[:])
		if n > 0 {
			return 0, &TooLargeError{b.lim}
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}
