package snmp

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
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
	// path with a long round trip the walk takes up to that many times
	// less. A part that proves large is split, while a walker is idle, at
	// the next branches after the OID it has reached. 1 or less walks one
	// request at a time.
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
		err = c.walkRange(ctx, root, nil, root, opt, 0, &st, fn, nil)
	}
	if err == nil && st.Vars == 0 {
		err = c.walkLeaf(ctx, root, &st, fn)
	}
	return st, err
}

// walkRange walks from after start to the end of root's subtree, or to
// the first binding at or after limit (if not nil).
//
// split, if not nil, is asked after each answer that leaves more of the
// range to walk, when no answer came back faster than splitRTT (the path,
// not the agent, is slow) and the agent caps what it sends; it returns the
// limit to go on with (it may cut the rest of the range off for other
// walkers).
func (c *Client) walkRange(ctx context.Context, start, limit, root OID, opt WalkOptions, rep0 int, st *WalkStats, fn func(Var) error, split func(from, cur, limit OID, rep int) OID) error {
	bulk := !opt.GetNext && c.cfg.Version != V1
	rep, ceiling := opt.MaxRepetitions, opt.Ceiling
	adapt := rep <= 0
	if ceiling <= 0 {
		ceiling = 1024
	}
	if adapt {
		rep = 25
		if rep0 > 0 {
			rep = min(rep0, ceiling)
		}
	}
	cur := start
	if len(cur) < 2 {
		cur = start.Append(0) // BER writes no OID of one part: .1 asks from .1.0
	}
	timeouts := 0
	var minRTT time.Duration
	for {
		var vars []Var
		var err error
		st.Requests++
		sent, from := time.Now(), cur
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
		// Split where the agent sets a cap: it answered fewer than asked
		// (snmpd sends 100 at most) with more to come, or the answers are
		// as large as the walk lets them grow.
		rtt := time.Since(sent)
		if minRTT == 0 || rtt < minRTT {
			minRTT = rtt
		}
		if split != nil && minRTT >= splitRTT && (len(vars) < rep && len(vars) >= 16 || rep >= ceiling) {
			limit = split(from, cur, limit, rep)
		}
		if bulk && adapt && len(vars) >= rep && rep < ceiling {
			rep = min(rep*2, ceiling)
		}
	}
}

// segment is a part of a parallel walk: the bindings after start (and
// first, when the split found it), up to limit.
type segment struct {
	start, limit OID // limit nil: the end of root's subtree
	first        *Var
	rep          int // the max-repetitions to start with
	vars         []Var
	st           WalkStats
	err          error
	done         chan struct{}
	next         *segment // the following part, in OID order
}

// walkParallel walks root's subtree with opt.Parallel clients, each on a
// socket of its own. One segment starts as the whole subtree; when a
// worker's segment has more to come while another worker is idle, and the
// path is slow (no round trip under splitRTT) and the agent caps its
// answers (fewer than asked, or as many as the walk lets them grow), it
// splits what is left at the places splitAfter finds (one GETNEXT), keeps
// the first piece and queues the rest. The bindings are handed to fn in
// order as the segments complete.
func (c *Client) walkParallel(ctx context.Context, root OID, opt WalkOptions, st *WalkStats, fn func(Var) error) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var extra []*Client
	var mu sync.Mutex
	wake := sync.NewCond(&mu)
	finished := false
	end := func() {
		mu.Lock()
		finished = true
		wake.Broadcast()
		mu.Unlock()
	}
	defer func() {
		end()
		cancel()
		wg.Wait()
		for _, x := range extra {
			x.Close()
		}
	}()
	defer context.AfterFunc(ctx, end)()
	clients := []*Client{c}
	for range opt.Parallel - 1 {
		x, err := c.clone(ctx)
		if err != nil {
			break // fewer sockets: fewer at once
		}
		extra = append(extra, x)
		clients = append(clients, x)
	}
	head := &segment{start: root, done: make(chan struct{})}
	queue := []*segment{head}
	idle, splits := 0, 0
	take := func() *segment {
		mu.Lock()
		defer mu.Unlock()
		idle++
		for len(queue) == 0 && !finished {
			wake.Wait()
		}
		idle--
		if finished {
			return nil
		}
		seg := queue[0]
		queue = queue[1:]
		return seg
	}
	for _, cl := range clients {
		wg.Go(func() {
			for {
				seg := take()
				if seg == nil {
					return
				}
				if seg.first != nil {
					seg.vars = append(seg.vars, *seg.first)
					seg.st.Vars++
				}
				split := func(from, cur, limit OID, rep int) OID {
					mu.Lock()
					want := idle > 0 && len(queue) == 0 && splits < 1024
					mu.Unlock()
					if !want {
						return limit
					}
					parts, err := cl.splitAfter(ctx, root, from, cur, limit, &seg.st)
					if err != nil || len(parts) == 0 {
						return limit
					}
					mu.Lock()
					defer mu.Unlock()
					tail := seg.next
					prev := seg
					for i, p := range parts {
						ns := &segment{start: p.OID, first: &parts[i], limit: limit, rep: rep, done: make(chan struct{})}
						if i+1 < len(parts) {
							ns.limit = parts[i+1].OID
						}
						prev.next = ns
						prev = ns
						queue = append(queue, ns)
						splits++
					}
					prev.next = tail
					wake.Broadcast()
					return parts[0].OID
				}
				seg.err = cl.walkRange(ctx, seg.start, seg.limit, root, opt, seg.rep, &seg.st, func(v Var) error {
					seg.vars = append(seg.vars, v)
					return nil
				}, split)
				close(seg.done)
			}
		})
	}
	parts := 0
	for seg := head; seg != nil; {
		select {
		case <-seg.done:
		case <-ctx.Done():
			return ctx.Err() // a segment still queued would never be done
		}
		parts++
		if seg.err != nil {
			return seg.err
		}
		st.add(seg.st)
		for _, v := range seg.vars {
			if err := fn(v); err != nil {
				return err
			}
		}
		seg.vars = nil
		mu.Lock()
		seg = seg.next
		mu.Unlock()
	}
	st.Parts = parts
	return nil
}

// splitAfter finds where what is left of a segment, after cur and before
// limit, can be cut, with one GETNEXT: for each depth of cur below root,
// the first binding after cur's branch at that depth (cur's prefix
// followed by the largest part), and at the three deepest after each of
// the next three branches too; and, when the last answer moved along
// one column from from to cur, the first bindings 1, 2, 4, 8 and 16 times
// as far again (the rows of a long column, in pieces that grow). It returns them in
// order, each after cur and before limit. (Any OIDs would do: a segment
// ends before the binding the next one starts with.)
func (c *Client) splitAfter(ctx context.Context, root, from, cur, limit OID, st *WalkStats) ([]Var, error) {
	var probes []OID
	if n := len(cur); n == len(from) && n > len(root)+1 && slices.Equal(cur[:n-1], from[:n-1]) && cur[n-1] > from[n-1] {
		step := uint64(cur[n-1] - from[n-1])
		for k := uint64(1); k <= 16 && uint64(cur[n-1])+k*step < 1<<32; k *= 2 {
			probes = append(probes, cur[:n-1].Append(uint32(uint64(cur[n-1])+k*step)))
		}
	}
	for d := len(cur) - 2; d >= len(root) && len(probes) < probesPerRequest; d-- {
		// Past cur's branch at depth d, and near cur past the next three
		// branches too (the columns of a table, found at once).
		for j := range uint64(4) {
			if j > 0 && (d < len(cur)-4 || uint64(cur[d])+j >= 1<<32) {
				break
			}
			probes = append(probes, cur[:d].Append(uint32(uint64(cur[d])+j), 1<<32-1))
		}
	}
	probes = probes[:min(len(probes), probesPerRequest)]
	if len(probes) == 0 {
		return nil, nil
	}
	st.Requests++
	vars, err := c.GetNext(ctx, probes...)
	if err != nil {
		return nil, err
	}
	var out []Var
	for _, v := range vars {
		if v.Type.Exception() || !v.OID.HasPrefix(root) || v.OID.Compare(cur) <= 0 || limit != nil && v.OID.Compare(limit) >= 0 {
			continue
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b Var) int { return a.OID.Compare(b.OID) })
	return slices.CompactFunc(out, func(a, b Var) bool { return a.OID.Compare(b.OID) == 0 }), nil
}

// splitRTT is the shortest round trip above which a parallel walk
// splits: below it the agent, not the path, sets the pace, and more
// requests at once only queue up there.
const splitRTT = 5 * time.Millisecond

// probesPerRequest keeps a GETNEXT of probes under gosnmp's 60 bindings.
const probesPerRequest = 48

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
