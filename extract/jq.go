package extract

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/itchyny/gojq"
)

// JQ is a compiled jq program.
type JQ struct {
	src  string
	code *gojq.Code
}

// ParseJQ compiles a jq program; the error names the program and the
// place in it.
func ParseJQ(src string) (*JQ, error) {
	q, err := gojq.Parse(src)
	if err != nil {
		if pe, ok := errors.AsType[*gojq.ParseError](err); ok {
			return nil, fmt.Errorf("invalid jq program %q: %v (at offset %d)", src, pe, pe.Offset)
		}
		return nil, fmt.Errorf("invalid jq program %q: %v", src, err)
	}
	code, err := gojq.Compile(q)
	if err != nil {
		return nil, fmt.Errorf("invalid jq program %q: %v", src, err)
	}
	return &JQ{src: src, code: code}, nil
}

// String is the program's source.
func (q *JQ) String() string { return q.src }

// Run runs the program over each JSON value in r in turn (a document, or
// a stream of them such as NDJSON), calling emit with each result:
// nil, bool, json.Number, int, float64, *big.Int, string, []any or
// map[string]any. Numbers keep their precision.
func (q *JQ) Run(ctx context.Context, r io.Reader, lim Limits, emit func(v any) error) error {
	ctx, cancel := context.WithTimeout(ctx, lim.timeout())
	defer cancel()
	dec := json.NewDecoder(bound(r, lim.maxInput(defaultMaxJSON)))
	dec.UseNumber()
	for n := 1; ; n++ {
		var in any
		if err := dec.Decode(&in); err == io.EOF {
			return nil
		} else if err != nil {
			if errors.Is(err, ErrTooLarge) {
				return err
			}
			return fmt.Errorf("the body is not JSON: value %d: %v (at byte %d)", n, err, dec.InputOffset())
		}
		iter := q.code.RunWithContext(ctx, normalize(in))
		for {
			v, ok := iter.Next()
			if !ok {
				break
			}
			if err, ok := v.(error); ok {
				if errors.Is(err, context.DeadlineExceeded) {
					return fmt.Errorf("jq %q: stopped after %s", q.src, lim.timeout())
				}
				if _, halt := err.(*gojq.HaltError); halt {
					return err
				}
				return fmt.Errorf("jq %q: %v", q.src, err)
			}
			if err := emit(v); err != nil {
				return err
			}
			if ctx.Err() != nil {
				return fmt.Errorf("jq %q: stopped after %s", q.src, lim.timeout())
			}
		}
	}
}

// Format says how [JQ.Write] prints results.
type Format struct {
	// Raw prints strings without quotes, as jq -r.
	Raw bool
	// Compact prints each result on one line, as jq -c; otherwise
	// results are indented by two spaces, as jq prints them.
	Compact bool
	// Color colours keys, strings and null for a terminal, as jq -C.
	Color bool
}

// Write runs the program over r and prints each result on its own line(s)
// to w, jq's way (object keys sorted, as gojq and jq -S print them).
func (q *JQ) Write(ctx context.Context, r io.Reader, w io.Writer, lim Limits, f Format) error {
	bw := bufio.NewWriter(w)
	var ind bytes.Buffer
	var colored []byte
	err := q.Run(ctx, r, lim, func(v any) error {
		if s, ok := v.(string); ok && f.Raw {
			bw.WriteString(s)
			return bw.WriteByte('\n')
		}
		b, err := gojq.Marshal(v)
		if err != nil {
			return err
		}
		if !f.Compact {
			ind.Reset()
			if err := json.Indent(&ind, b, "", "  "); err == nil {
				b = ind.Bytes()
			}
		}
		if f.Color {
			colored = colorize(colored[:0], b)
			b = colored
		}
		bw.Write(b)
		return bw.WriteByte('\n')
	})
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	return err
}

// normalize turns the decoder's json.Numbers into what jq computes with:
// int for integers that fit, float64 for the rest, except integers too
// large for either, which keep every digit (as jq 1.7 does).
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil && i >= math.MinInt && i <= math.MaxInt {
				return int(i)
			}
			if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				return f
			}
			return x
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
	}
	return v
}
