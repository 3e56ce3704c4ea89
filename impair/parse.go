package impair

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/internal/units"
)

// ParseError is a fault written in a way that cannot be read: the input
// and the rule it broke.
type ParseError struct {
	Input string
	Rule  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("invalid %q: %s", e.Input, e.Rule) }

// ParseProbability reads a probability as a percentage ("5%", "0.1%") or
// a fraction ("0.05").
func ParseProbability(s string) (float64, error) {
	num, pct := strings.CutSuffix(strings.TrimSpace(s), "%")
	v, err := strconv.ParseFloat(num, 64)
	if pct {
		v /= 100
	}
	if err != nil || math.IsNaN(v) || v < 0 || v > 1 {
		return 0, &ParseError{s, "a probability: a percentage from 0% to 100%, or a fraction from 0 to 1"}
	}
	return v, nil
}

// ParseWindow reads a partition as DURATION@START: "2s@10s" is down for
// two seconds from the tenth.
func ParseWindow(s string) (Window, error) {
	bad := &ParseError{s, "a partition is DURATION@START, such as 2s@10s"}
	d, at, ok := strings.Cut(s, "@")
	if !ok {
		return Window{}, bad
	}
	w := Window{}
	var err1, err2 error
	w.For, err1 = time.ParseDuration(d)
	w.At, err2 = time.ParseDuration(at)
	if err1 != nil || err2 != nil || w.For <= 0 || w.At < 0 {
		return Window{}, bad
	}
	return w, nil
}

// ParseGilbertElliott reads P,R[,LOSSBAD[,LOSSGOOD]], each a probability
// as ParseProbability reads it.
func ParseGilbertElliott(s string) (*GilbertElliott, error) {
	parts := strings.Split(s, ",")
	if len(parts) < 2 || len(parts) > 4 {
		return nil, &ParseError{s, "Gilbert-Elliott takes P,R[,LOSS-IN-BAD[,LOSS-IN-GOOD]]: the chances of going bad and of recovering, per datagram"}
	}
	var v [4]float64
	v[2] = 1
	for i, p := range parts {
		x, err := ParseProbability(p)
		if err != nil {
			return nil, &ParseError{s, fmt.Sprintf("part %d: %s", i+1, err.(*ParseError).Rule)}
		}
		v[i] = x
	}
	return &GilbertElliott{P: v[0], R: v[1], LossBad: v[2], LossGood: v[3]}, nil
}

// ParseRule reads a scripted drop: N drops datagram N (numbers count
// arrivals, so a datagram sent again has a new number: to drop a resend
// too, match its content); first:N drops the first N; match:TEXT drops
// every datagram that contains TEXT, match:TEXT*K the first K of them.
func ParseRule(s string) (Rule, error) {
	bad := &ParseError{s, "a drop is N (datagram N), first:N, or match:TEXT[*TIMES]"}
	body, times := s, 0
	if i := strings.LastIndexByte(s, '*'); i >= 0 && strings.HasPrefix(s, "match:") {
		t, err := strconv.Atoi(s[i+1:])
		if err != nil || t < 1 {
			return Rule{}, bad
		}
		body, times = s[:i], t
	}
	switch {
	case strings.HasPrefix(body, "first:"):
		n, err := strconv.Atoi(body[len("first:"):])
		if err != nil || n < 1 {
			return Rule{}, bad
		}
		return Rule{First: n}, nil
	case strings.HasPrefix(body, "match:"):
		m := body[len("match:"):]
		if m == "" {
			return Rule{}, bad
		}
		return Rule{Match: []byte(m), Times: times}, nil
	}
	n, err := strconv.Atoi(body)
	if err != nil || n < 1 {
		return Rule{}, bad
	}
	return Rule{Nth: n}, nil
}

// ParseRate reads a rate in bits per second with an optional decimal
// unit, as tc writes it: 50M, 1.5G, 800k, 64000 ("bit" or "bps" may
// follow).
func ParseRate(s string) (float64, error) {
	v, err := units.Parse(strings.TrimSuffix(strings.TrimSuffix(s, "bps"), "bit"), 1000)
	if err != nil || v <= 0 {
		return 0, &ParseError{s, "a rate in bits per second, such as 50M, 1G or 800k"}
	}
	return v, nil
}

// ParseSize reads a size in bytes with an optional binary unit: 1500,
// 64K, 1M.
func ParseSize(s string) (int, error) {
	v, err := units.Parse(s, 1024)
	if err != nil || v < 1 || v > math.MaxInt32 || v != math.Trunc(v) {
		return 0, &ParseError{s, "a size in bytes, such as 1500, 64K or 1M"}
	}
	return int(v), nil
}
