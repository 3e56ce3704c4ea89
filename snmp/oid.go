package snmp

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// OID is an object identifier: the path of a value in the MIB tree, as
// 1.3.6.1.2.1.1.5.0 (sysName.0).
type OID []uint32

// ParseOID reads a numeric OID: dotted decimal, with or without the
// leading dot.
func ParseOID(s string) (OID, error) {
	o, err := parseParts(s)
	if err != nil {
		return nil, err
	}
	if o[0] > 2 || len(o) > 1 && o[0] < 2 && o[1] >= 40 {
		return nil, &InputError{Input: s, Rule: "an OID starts 0, 1 or 2, and under 0 and 1 the next part is below 40 (X.690)"}
	}
	return o, nil
}

// parseParts reads numbers separated by dots: an OID, or an index.
func parseParts(s string) (OID, error) {
	t := strings.TrimPrefix(s, ".")
	if t == "" {
		return nil, &InputError{Input: s, Rule: "an OID is numbers separated by dots, as 1.3.6.1.2.1.1.5.0"}
	}
	parts := strings.Split(t, ".")
	if len(parts) > 128 {
		return nil, &InputError{Input: s, Rule: "an OID has at most 128 parts"}
	}
	o := make(OID, len(parts))
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil || p == "" || p[0] == '+' {
			return nil, &InputError{Input: s, Rule: fmt.Sprintf("part %q of an OID is not a number from 0 to 4294967295", p)}
		}
		o[i] = uint32(n)
	}
	return o, nil
}

// String is the OID in dotted decimal with a leading dot, as net-snmp's
// -On prints it.
func (o OID) String() string {
	b := make([]byte, 0, len(o)*4)
	for _, n := range o {
		b = append(b, '.')
		b = strconv.AppendUint(b, uint64(n), 10)
	}
	return string(b)
}

// Compare orders OIDs as the MIB does, part by part (a prefix first).
func (o OID) Compare(p OID) int { return slices.Compare(o, p) }

// HasPrefix says whether o is p or below it.
func (o OID) HasPrefix(p OID) bool {
	return len(o) >= len(p) && slices.Equal(o[:len(p)], p)
}

// Append returns o with more parts after it, in a new slice.
func (o OID) Append(parts ...uint32) OID {
	return append(slices.Clip(o), parts...)
}

// InputError is an OID, a name, a value or an option that does not read.
type InputError struct {
	Input string
	Rule  string
}

func (e *InputError) Error() string { return fmt.Sprintf("snmp: %q: %s", e.Input, e.Rule) }

// ErrNotIncreasing is what a walk stops with when the agent answers with
// an OID that is not after the one asked for: a broken agent would make
// it loop.
var ErrNotIncreasing = errors.New("snmp: the agent returned an OID that does not increase")

// MarshalText writes the OID as String does.
func (o OID) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText reads a numeric OID.
func (o *OID) UnmarshalText(b []byte) error {
	p, err := ParseOID(string(b))
	if err != nil {
		return err
	}
	*o = p
	return nil
}
