package snmp

import (
	"context"
	"errors"
	"slices"
	"sync"
)

// WalkOptions tune a walk.
type WalkOptions struct {
	// MaxRepetitions fixes GETBULK's max-repetitions. If zero the walk
	// adapts it: it starts at 25, doubles while the agent's answers come
	// back full, up to Ceiling, and halves when the agent says tooBig or
	// does not answer in time. (snmpd answers at most 100 a request,
	// whatever is asked.)
	MaxRepetitions int
	// Ceiling bounds the adaptive max-repetitions; 1024 if zero.
	Ceiling int
	// GetNext walks with GETNEXT, one binding a request, as snmpwalk
	// does (and as v1 must).
	GetNext bool
	// Parallel is how many requests a GETBULK walk keeps in flight, each
	// on a socket of its own, to walk parts of the tree at once: on a
	// path with a long round trip the walk takes about that many times
	// less. The parts are found first by probing the tree's branches with
	// GETNEXT, a request a level. 1 or less walks one request at a time.
	Parallel int
}

// WalkStats says what a walk took.
type WalkStats struct {
	Requests       int `json:"requests"`
	Vars           int `json:"vars"`
	MaxRepetitions int `json:"max_repetitions"` // the largest used
	Halvings       int `json:"halvings"`        // after tooBig or a timeout
	Parts          int `json:"parts,omitempty"` // walked in parallel
}

func (s *WalkStats) add(o WalkStats) {
	s.Requests += o.Requests
	s.Vars += o.Vars
	s.MaxRepetitions = max(s.MaxRepetitions, o.MaxRepetitions)
	s.Halvings += o.Halvings
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
	var err error
	if bulk && opt.Parallel > 1 {
		err = c.walkParallel(ctx, root, opt, &st, fn)
	} else {
		err = c.walkRange(ctx, root, nil, root, opt, &st, fn)
	}
	if err == nil && st.Vars == 0 {
		err = c.walkLeaf(ctx, root, &st, fn)
	}
	return st, err
}

// walkRange walks from after start to the end of root's subtree, or to
// the first binding at or after limit (if not nil).
func (c *Client) walkRange(ctx context.Context, start, limit, root OID, opt WalkOptions, st *WalkStats, fn func(Var) error) error {
	bulk := !opt.GetNext && c.cfg.Version != V1
	rep, ceiling := opt.MaxRepetitions, opt.Ceiling
	adapt := rep <= 0
	if ceiling <= 0 {
		ceiling = 1024
	}
	if adapt {
		rep = 25
	}
	cur := start
	if len(cur) < 2 {
		cur = start.Append(0) // BER writes no OID of one part: .1 asks from .1.0
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
					return nil // v1's end of the MIB
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
			return err
		}
		timeouts = 0
		if len(vars) == 0 {
			return nil
		}
		for _, v := range vars {
			if v.Type.Exception() || !v.OID.HasPrefix(root) || limit != nil && v.OID.Compare(limit) >= 0 {
				return nil
			}
			if v.OID.Compare(cur) <= 0 {
				return &Error{Agent: c.agent, Op: "walk", OID: v.OID, Err: ErrNotIncreasing}
			}
			st.Vars++
			if err := fn(v); err != nil {
				return err
			}
			cur = v.OID
		}
		if bulk && adapt && len(vars) >= rep && rep < ceiling {
			rep = min(rep*2, ceiling)
		}
	}
}

// walkParallel finds split points in root's subtree, then walks the
// ranges between them Parallel at a time, each on a client of its own,
// and hands fn the bindings in order.
func (c *Client) walkParallel(ctx context.Context, root OID, opt WalkOptions, st *WalkStats, fn func(Var) error) error {
	splits, err := c.splitPoints(ctx, root, 4*opt.Parallel, st)
	if err != nil {
		return err
	}
	if len(splits) < 2 {
		return c.walkRange(ctx, root, nil, root, opt, st, fn)
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var extra []*Client
	defer func() {
		cancel()
		wg.Wait()
		for _, x := range extra {
			x.Close()
		}
	}()
	type part struct {
		vars []Var
		st   WalkStats
		err  error
		done chan struct{}
	}
	parts := make([]*part, len(splits)+1)
	pool := make(chan *Client, opt.Parallel)
	pool <- c
	for range opt.Parallel - 1 {
		x, err := c.clone(ctx)
		if err != nil {
			break // fewer sockets: fewer at once
		}
		extra = append(extra, x)
		pool <- x
	}
	for i := range parts {
		p := &part{done: make(chan struct{})}
		parts[i] = p
		start, limit := root, OID(nil)
		if i > 0 {
			start = splits[i-1].OID
			p.vars = append(p.vars, splits[i-1])
			p.st.Vars++
		}
		if i < len(splits) {
			limit = splits[i].OID
		}
		wg.Go(func() {
			defer close(p.done)
			var cl *Client
			select {
			case cl = <-pool:
			case <-ctx.Done():
				p.err = ctx.Err()
				return
			}
			defer func() { pool <- cl }()
			p.err = cl.walkRange(ctx, start, limit, root, opt, &p.st, func(v Var) error {
				p.vars = append(p.vars, v)
				return nil
			})
		})
	}
	st.Parts = len(parts)
	for _, p := range parts {
		<-p.done
		if p.err != nil {
			return p.err
		}
		st.add(p.st)
		for _, v := range p.vars {
			if err := fn(v); err != nil {
				return err
			}
		}
		p.vars = nil
	}
	return nil
}

// probesPerRequest keeps a GETNEXT of probes under gosnmp's 60 bindings.
const probesPerRequest = 48

// splitPoints probes root's subtree a level at a time, one GETNEXT of up
// to 48 bindings a level: for each branch at the frontier it asks for the
// first binding after each of its first children, which finds where the
// branch's children start. It stops with want points or more, or after 8
// levels, and returns them in order (each a binding of the tree).
func (c *Client) splitPoints(ctx context.Context, root OID, want int, st *WalkStats) ([]Var, error) {
	found := map[string]Var{}
	frontier := []OID{root}
	for depth := 0; depth < 8 && len(frontier) > 0 && len(found) < want; depth++ {
		per := max(3, probesPerRequest/len(frontier))
		var probes []OID
		for _, p := range frontier {
			for k := range uint32(per) {
				if len(p) == 1 && p[0] < 2 && k >= 40 {
					break // BER: under 0 and 1 the second part is below 40
				}
				probes = append(probes, p.Append(k))
			}
		}
		probes = probes[:min(len(probes), probesPerRequest)]
		st.Requests++
		vars, err := c.GetNext(ctx, probes...)
		if err != nil {
			return nil, err
		}
		var next []OID
		seen := map[string]bool{}
		for i, v := range vars {
			if v.Type.Exception() || !v.OID.HasPrefix(root) || i >= len(probes) || v.OID.Compare(probes[i]) <= 0 {
				continue
			}
			found[v.OID.String()] = v
			// The branch the binding is in, one level below its probe's.
			parent := probes[i][:len(probes[i])-1]
			if v.OID.HasPrefix(parent) && len(v.OID) > len(parent)+1 {
				child := v.OID[:len(parent)+1]
				if k := child.String(); !seen[k] {
					seen[k] = true
					next = append(next, child)
				}
			}
		}
		frontier = next[:min(len(next), 16)]
	}
	out := make([]Var, 0, len(found))
	for _, v := range found {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b Var) int { return a.OID.Compare(b.OID) })
	return out, nil
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

// walkLeaf ends a walk that found nothing below root: it asks for root
// itself, as snmpwalk does, so that walking sysName.0 shows it.
func (c *Client) walkLeaf(ctx context.Context, root OID, st *WalkStats, fn func(Var) error) error {
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
