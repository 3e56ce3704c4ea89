package eventloop

import "time"

// wheel is a hashed timer wheel for idle timeouts. A connection is filed
// under the tick when its idle deadline falls; reads and writes do not
// touch the wheel (they only move the connection's last-activity time), so
// when the tick comes the connection is either idle and closed, or filed
// again under its new deadline.
type wheel struct {
	tick  time.Duration
	slots [][]wheelEntry
	pos   int64 // the tick processed last
}

type wheelEntry struct {
	c    *conn
	tick int64
}

const wheelSlots = 64

func (w *wheel) init(idle time.Duration) {
	if idle <= 0 {
		return
	}
	w.tick = max(idle/16, 5*time.Millisecond)
	w.slots = make([][]wheelEntry, wheelSlots)
	w.pos = time.Now().UnixNano() / int64(w.tick)
}

func (w *wheel) add(c *conn, deadline time.Time) {
	t := deadline.UnixNano()/int64(w.tick) + 1
	if t <= w.pos {
		t = w.pos + 1
	}
	s := int(t % wheelSlots)
	w.slots[s] = append(w.slots[s], wheelEntry{c, t})
}

// advance processes every tick up to now. keep is asked about each
// connection whose tick has come: false drops it, true files it again
// under its current deadline.
func (w *wheel) advance(now time.Time, keep func(*conn) bool) {
	target := now.UnixNano() / int64(w.tick)
	for w.pos < target {
		w.pos++
		s := int(w.pos % wheelSlots)
		entries := w.slots[s]
		w.slots[s] = nil
		for _, e := range entries {
			if e.tick > w.pos {
				w.slots[s] = append(w.slots[s], e) // a later round
				continue
			}
			if keep(e.c) {
				w.add(e.c, time.Unix(0, e.c.last.Load()).Add(e.c.l.s.IdleTimeout))
			}
		}
	}
}
