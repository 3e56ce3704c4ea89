package snmp

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Table is a conceptual table (ifTable, ifXTable, ...) read by a walk:
// rows by index, columns by their sub-identifier.
type Table struct {
	OID     OID       `json:"oid"`
	Entry   OID       `json:"-"` // the table's entry: OID.1
	Columns []Column  `json:"columns"`
	Rows    []Row     `json:"rows"`
	At      time.Time `json:"at"`
}

// Column is one column of a table.
type Column struct {
	Sub  uint32 `json:"sub"`  // the column's number under the entry
	Name string `json:"name"` // its name, as ifDescr, or its number
}

// Row is one row: its index (the OID parts after the column) and a cell
// per column that the agent has for it.
type Row struct {
	Index OID                `json:"index"`
	Cells map[uint32]Var     `json:"cells"`
	Rates map[uint32]float64 `json:"rates,omitempty"` // per second, for counters, after SetRates
}

// ReadTable walks the table at root (a table, as ifTable, or its entry,
// as ifEntry) and arranges what it finds as rows and columns.
func (c *Client) ReadTable(ctx context.Context, root OID, opt WalkOptions) (*Table, WalkStats, error) {
	vars, st, err := c.WalkAll(ctx, root, opt)
	if err != nil {
		return nil, st, err
	}
	return NewTable(root, vars), st, nil
}

// NewTable arranges bindings below root as a table. root may be the
// table or its entry: when every binding is under root.1 with a column
// and an index after it, root is the table.
func NewTable(root OID, vars []Var) *Table {
	entry := root
	isTable := len(vars) > 0
	for _, v := range vars {
		rel := v.OID[len(root):]
		if len(rel) < 3 || rel[0] != 1 {
			isTable = false
			break
		}
	}
	if isTable {
		entry = root.Append(1)
	}
	t := &Table{OID: root, Entry: entry, At: time.Now()}
	rows := map[string]int{}
	cols := map[uint32]bool{}
	for _, v := range vars {
		if !v.OID.HasPrefix(entry) || len(v.OID) < len(entry)+2 {
			continue
		}
		col, idx := v.OID[len(entry)], OID(v.OID[len(entry)+1:])
		if !cols[col] {
			cols[col] = true
			name := Name(entry.Append(col))
			if _, n, ok := strings.Cut(name, "::"); ok {
				name = n
			}
			t.Columns = append(t.Columns, Column{Sub: col, Name: name})
		}
		k := idx.String()
		i, ok := rows[k]
		if !ok {
			i = len(t.Rows)
			rows[k] = i
			t.Rows = append(t.Rows, Row{Index: idx, Cells: map[uint32]Var{}})
		}
		t.Rows[i].Cells[col] = v
	}
	slices.SortFunc(t.Columns, func(a, b Column) int { return int(a.Sub) - int(b.Sub) })
	slices.SortFunc(t.Rows, func(a, b Row) int { return a.Index.Compare(b.Index) })
	return t
}

// SetRates fills each row's Rates from an earlier reading of the same
// table: for every Counter32 and Counter64 cell, the increase per second
// since prev. A counter that went down wrapped once at its width (2^32
// or 2^64); a row or a cell that prev lacks gets no rate.
func (t *Table) SetRates(prev *Table) {
	dt := t.At.Sub(prev.At).Seconds()
	if dt <= 0 {
		return
	}
	old := map[string]Row{}
	for _, r := range prev.Rows {
		old[r.Index.String()] = r
	}
	for i := range t.Rows {
		r := &t.Rows[i]
		p, ok := old[r.Index.String()]
		if !ok {
			continue
		}
		for col, v := range r.Cells {
			pv, ok := p.Cells[col]
			if !ok || pv.Type != v.Type || v.Type != Counter32 && v.Type != Counter64 {
				continue
			}
			now, _ := v.Uint()
			was, _ := pv.Uint()
			if r.Rates == nil {
				r.Rates = map[uint32]float64{}
			}
			r.Rates[col] = float64(counterDelta(was, now, v.Type)) / dt
		}
	}
}

// counterDelta is how much a counter rose from was to now, wrapping at
// the type's width.
func counterDelta(was, now uint64, t Type) uint64 {
	if now >= was {
		return now - was
	}
	if t == Counter32 {
		return now + (math.MaxUint32 - was) + 1
	}
	return now + (math.MaxUint64 - was) + 1
}

// Select keeps only the columns given by name (ifDescr) or number (2),
// in the order given.
func (t *Table) Select(cols ...string) error {
	var keep []Column
	for _, want := range cols {
		i := slices.IndexFunc(t.Columns, func(c Column) bool {
			return strings.EqualFold(c.Name, want) || strconv.FormatUint(uint64(c.Sub), 10) == want
		})
		if i < 0 {
			var have []string
			for _, c := range t.Columns {
				have = append(have, c.Name)
			}
			return &InputError{Input: want, Rule: "not a column of this table; it has " + strings.Join(have, ", ")}
		}
		keep = append(keep, t.Columns[i])
	}
	t.Columns = keep
	return nil
}
