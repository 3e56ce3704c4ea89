// Package services maps ports to service names and back, for TCP and UDP:
// the "rooms" of a host that the tutorials name by number.
//
// The table is netkit's own (services.csv, written from the IANA registry
// with a rank for how common each port is, which scan --top uses),
// overlaid by the system's /etc/services where it is present: a name the
// system gives a port wins, and ports only the system knows are added,
// unranked.
package services

import (
	"cmp"
	_ "embed"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/netkit-dev/netkit/internal/fieldlines"
)

// Service is one port of one protocol and its name.
type Service struct {
	Name        string   `json:"name"`
	Port        uint16   `json:"port"`
	Proto       Proto    `json:"proto"`
	Rank        int      `json:"rank,omitempty"` // 1 is the most common; 0 means unranked
	Description string   `json:"description,omitempty"`
	Aliases     []string `json:"aliases,omitempty"`
	Source      string   `json:"source"` // "netkit" or the system file's path
}

// Proto is a transport protocol: TCP or UDP.
type Proto string

// The protocols a service table names.
const (
	TCP Proto = "tcp"
	UDP Proto = "udp"
)

// copy returns the service with a slice of aliases of its own, so that no
// caller can change the table's.
func (s *Service) copy() Service {
	c := *s
	c.Aliases = slices.Clone(s.Aliases)
	return c
}

// Table is a set of services. It is immutable: Overlay returns a new
// table, and lookups return copies.
type Table struct {
	byPort map[key]*Service
	byName map[string][]*Service // lower-case name or alias
}

type key struct {
	port  uint16
	proto Proto
}

//go:embed services.csv
var builtin string

var (
	defaultOnce  sync.Once
	defaultTable *Table
)

// Default returns netkit's table overlaid by /etc/services.
func Default() *Table {
	defaultOnce.Do(func() {
		defaultTable = mustBuiltin()
		if f, err := os.Open("/etc/services"); err == nil {
			defer f.Close()
			defaultTable, _ = defaultTable.Overlay(f, "/etc/services") // a malformed system line is skipped
		}
	})
	return defaultTable
}

// Builtin returns netkit's own table alone.
func Builtin() *Table { return mustBuiltin() }

func mustBuiltin() *Table {
	t, err := parseCSV(builtin)
	if err != nil {
		panic(err) // services.csv is checked by the tests
	}
	return t
}

func newTable() *Table {
	return &Table{byPort: make(map[key]*Service), byName: make(map[string][]*Service)}
}

func (t *Table) add(s *Service) {
	t.byPort[key{s.Port, s.Proto}] = s
	for _, n := range append([]string{s.Name}, s.Aliases...) {
		n = strings.ToLower(n)
		if !slices.Contains(t.byName[n], s) {
			t.byName[n] = append(t.byName[n], s)
		}
	}
}

func parseCSV(text string) (*Table, error) {
	t := newTable()
	for i, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.SplitN(line, ",", 5)
		if len(f) != 5 {
			return nil, fmt.Errorf("services.csv line %d: want name,port,proto,rank,description", i+1)
		}
		port, err1 := strconv.ParseUint(f[1], 10, 16)
		rank, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil || port == 0 || rank <= 0 || f[2] != "tcp" && f[2] != "udp" {
			return nil, fmt.Errorf("services.csv line %d: bad port, proto or rank in %q", i+1, line)
		}
		if _, dup := t.byPort[key{uint16(port), Proto(f[2])}]; dup {
			return nil, fmt.Errorf("services.csv line %d: %s/%s listed twice", i+1, f[1], f[2])
		}
		t.add(&Service{Name: f[0], Port: uint16(port), Proto: Proto(f[2]), Rank: rank, Description: f[4], Source: "netkit"})
	}
	return t, nil
}

// Overlay returns a new table: t with a file in the format of
// /etc/services ("name port/proto aliases... # comment") laid over it. The
// file's name for a port wins, keeping the table's rank and description,
// and ports only the file has are added unranked. Lines that do not parse
// are reported as one error at the end; the new table has the others. t
// itself is not changed.
func (t *Table) Overlay(r io.Reader, source string) (*Table, error) {
	t = t.clone()
	var bad []string
	err := fieldlines.Each(r, source, func(n int, f []string) error {
		pp := ""
		if len(f) >= 2 {
			pp = f[1]
		}
		ps, proto, ok := strings.Cut(pp, "/")
		port, err := strconv.ParseUint(ps, 10, 16)
		if !ok || err != nil || port == 0 || proto != "tcp" && proto != "udp" {
			if !(ok && (proto == "sctp" || proto == "ddp")) { // other protocols are not ours to name
				bad = append(bad, strconv.Itoa(n))
			}
			return nil
		}
		s := &Service{Name: f[0], Port: uint16(port), Proto: Proto(proto), Aliases: f[2:], Source: source}
		if old, ok := t.byPort[key{s.Port, s.Proto}]; ok {
			s.Rank, s.Description = old.Rank, old.Description
			if !strings.EqualFold(old.Name, s.Name) {
				s.Aliases = append(s.Aliases, old.Name)
			}
			t.remove(old)
		}
		t.add(s)
		return nil
	})
	if err != nil {
		return t, err
	}
	if len(bad) > 0 {
		return t, fmt.Errorf("%s: lines %s are not \"name port/proto [aliases]\"", source, strings.Join(bad, ", "))
	}
	return t, nil
}

// clone copies the indexes; the services themselves are never changed in
// place, so they are shared.
func (t *Table) clone() *Table {
	c := newTable()
	maps.Copy(c.byPort, t.byPort)
	for n, list := range t.byName {
		c.byName[n] = slices.Clone(list)
	}
	return c
}

func (t *Table) remove(s *Service) {
	delete(t.byPort, key{s.Port, s.Proto})
	for n, list := range t.byName {
		if i := slices.Index(list, s); i >= 0 {
			t.byName[n] = slices.Delete(list, i, i+1)
			if len(t.byName[n]) == 0 {
				delete(t.byName, n)
			}
		}
	}
}

// ByPort returns the service on a port of a protocol.
func (t *Table) ByPort(port uint16, proto Proto) (Service, bool) {
	s, ok := t.byPort[key{port, proto}]
	if !ok {
		return Service{}, false
	}
	return s.copy(), true
}

// Name returns the service name of a port, or "".
func (t *Table) Name(port uint16, proto Proto) string {
	if s, ok := t.byPort[key{port, proto}]; ok {
		return s.Name
	}
	return ""
}

// ByName returns the services called name (or with it as an alias),
// ignoring case, for proto ("" for both), TCP first.
func (t *Table) ByName(name string, proto Proto) []Service {
	var out []Service
	for _, s := range t.byName[strings.ToLower(name)] {
		if proto == "" || s.Proto == proto {
			out = append(out, s.copy())
		}
	}
	slices.SortFunc(out, func(a, b Service) int {
		if a.Proto != b.Proto {
			return cmp.Compare(a.Proto, b.Proto)
		}
		return int(a.Port) - int(b.Port)
	})
	return out
}

// Top returns the n most common ports of proto, most common first.
func (t *Table) Top(n int, proto Proto) []uint16 {
	var ranked []*Service
	for _, s := range t.byPort {
		if s.Proto == proto && s.Rank > 0 {
			ranked = append(ranked, s)
		}
	}
	slices.SortFunc(ranked, func(a, b *Service) int { return a.Rank - b.Rank })
	var out []uint16
	for _, s := range ranked {
		if len(out) == n {
			break
		}
		out = append(out, s.Port)
	}
	return out
}

// All returns every service, by protocol and port.
func (t *Table) All() []Service {
	out := make([]Service, 0, len(t.byPort))
	for _, s := range t.byPort {
		out = append(out, s.copy())
	}
	slices.SortFunc(out, func(a, b Service) int {
		if a.Proto != b.Proto {
			return cmp.Compare(a.Proto, b.Proto)
		}
		return int(a.Port) - int(b.Port)
	})
	return out
}

// Of returns every service of proto ("" for both), by protocol and port.
func (t *Table) Of(proto Proto) []Service {
	return slices.DeleteFunc(t.All(), func(s Service) bool { return proto != "" && s.Proto != proto })
}

// Find looks up each query, a port number or a name (or alias), for proto
// or, if proto is "", for both. It returns the services found, in the
// order of the queries, and the queries that matched none. A query of
// digits that is not a port from 1 to 65535 is an error.
func (t *Table) Find(queries []string, proto Proto) (found []Service, unknown []string, err error) {
	for _, q := range queries {
		n := len(found)
		if q != "" && strings.Trim(q, "0123456789") == "" {
			port, err := strconv.ParseUint(q, 10, 16)
			if err != nil || port == 0 {
				return nil, nil, fmt.Errorf("services: invalid port %q: ports are 1-65535", q)
			}
			for _, pr := range []Proto{TCP, UDP} {
				if s, ok := t.ByPort(uint16(port), pr); ok && (proto == "" || proto == pr) {
					found = append(found, s)
				}
			}
		} else {
			found = append(found, t.ByName(q, proto)...)
		}
		if len(found) == n {
			unknown = append(unknown, q)
		}
	}
	return found, unknown, nil
}
