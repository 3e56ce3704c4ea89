package snmp

import (
	"context"
	"errors"
)

// WalkOptions tune a walk.
type WalkOptions struct {
	// MaxRepetitions fixes GETBULK's max-repetitions. If zero the walk
	// adapts it: it starts at 10 (snmpbulkwalk's default), doubles while
	// the agent's answers come back full, up to Ceiling, and halves when
	// the agent says tooBig or does not answer in time.
	MaxRepetitions int
	// Ceiling bounds the adaptive max-repetitions; 1024 if zero.
	Ceiling int
	// GetNext walks with GETNEXT, one binding a request, as snmpwalk
	// does (and as v1 must).
	GetNext bool
}

// WalkStats says what a walk took.
type WalkStats struct {
	Requests       int `json:"requests"`
	Vars           int `json:"vars"`
	MaxRepetitions int `json:"max_repetitions"` // the largest used
	Halvings       int `json:"halvings"`        // after tooBig or a timeout
}

// Walk calls fn for every binding below root, in order, and returns what
// it took. It uses GETBULK (v2c and v3) unless opt.GetNext or v1. It stops
// at the end of the subtree or of the agent's MIB, at fn's first error
// (returned), and with ErrNotIncreasing (inside an *Error naming the
// OID) when the agent answers with an OID that is not after the last:
// a broken agent would make the walk loop for ever.
func (c *Client) Walk(ctx context.Context, root OID, opt WalkOptions, fn func(Var) error) (WalkStats, error) {
	var st WalkStats
	bulk := !opt.GetNext && c.cfg.Version != V1
	rep, ceiling := opt.MaxRepetitions, opt.Ceiling
	adapt := rep <= 0
	if ceiling <= 0 {
		ceiling = 1024
	}
	if adapt {
		rep = 10
	}
	cur := root
	if len(cur) < 2 {
		cur = root.Append(0) // BER writes no OID of one part: .1 asks from .1.0
	}
	timeouts := 0
	for {
		var vars []Var
		var err error
		st.Requests++
		if bulk {
			st.MaxRepetitions = max(st.MaxRepetitions, rep)
			vars, err = c.GetBulk(ctx, rep, cur)
		} else {
			vars, err = c.GetNext(ctx, cur)
		}
		if err != nil {
			var se *Error
			if errors.As(err, &se) {
				if se.Status == "noSuchName" && !bulk {
					return st, c.walkLeaf(ctx, root, &st, fn) // v1's end of the MIB
				}
				if bulk && adapt && rep > 1 && (se.Status == "tooBig" || se.Timeout() && timeouts < 3) {
					if se.Timeout() {
						timeouts++
					}
					rep = max(1, rep/2)
					ceiling = rep // an answer this large was lost: grow no more
					st.Halvings++
					continue
				}
				se.Op = "walk"
			}
			return st, err
		}
		timeouts = 0
		if len(vars) == 0 {
			return st, c.walkLeaf(ctx, root, &st, fn)
		}
		for _, v := range vars {
			if v.Type.Exception() || !v.OID.HasPrefix(root) {
				return st, c.walkLeaf(ctx, root, &st, fn)
			}
			if v.OID.Compare(cur) <= 0 {
				return st, &Error{Agent: c.agent, Op: "walk", OID: v.OID, Err: ErrNotIncreasing}
			}
			st.Vars++
			if err := fn(v); err != nil {
				return st, err
			}
			cur = v.OID
		}
		if bulk && adapt && len(vars) >= rep && rep < ceiling {
			rep = min(rep*2, ceiling)
		}
	}
}

// WalkAll returns every binding below root.
func (c *Client) WalkAll(ctx context.Context, root OID, opt WalkOptions) ([]Var, WalkStats, error) {
	var out []Var
	st, err := c.Walk(ctx, root, opt, func(v Var) error {
		out = append(out, v)
		return nil
	})
	return out, st, err
}

// walkLeaf ends a walk: one that found nothing below root asks for root
// itself, as snmpwalk does, so that walking sysName.0 shows it.
func (c *Client) walkLeaf(ctx context.Context, root OID, st *WalkStats, fn func(Var) error) error {
	if st.Vars > 0 {
		return nil
	}
	st.Requests++
	vars, err := c.Get(ctx, root)
	if err != nil {
		if se, ok := errors.AsType[*Error](err); ok && se.Status == "noSuchName" {
			return nil
		}
		return err
	}
	for _, v := range vars {
		if !v.Type.Exception() && v.OID.Compare(root) == 0 {
			st.Vars++
			return fn(v)
		}
	}
	return nil
}
