package ftp

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"
)

// EntryType is a file, a directory or a link.
type EntryType string

const (
	File EntryType = "file"
	Dir  EntryType = "dir"
	Link EntryType = "link"
)

// Entry is one line of a listing.
type Entry struct {
	Name    string    `json:"name"`
	Path    string    `json:"path"`
	Type    EntryType `json:"type"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mtime,omitzero"` // zero when the listing gave none
	Link    string    `json:"link,omitempty"` // a link's target, from LIST
}

// List lists a directory: with MLSD where FEAT offers MLST (exact sizes
// and UTC times), else with LIST, whose Unix and DOS formats are parsed.
// The entries "." and ".." are left out.
func (c *Conn) List(ctx context.Context, dir string) ([]Entry, error) {
	_, mlsd := c.features["MLST"]
	cmd := "LIST -a"
	if mlsd {
		cmd = "MLSD"
	}
	if dir != "" {
		cmd += " " + dir
	}
	d, err := c.transfer(ctx, 0, "%s", cmd)
	if err != nil {
		return nil, err
	}
	var out []Entry
	sc := bufio.NewScanner(d)
	sc.Buffer(make([]byte, 4096), 64<<10)
	now := time.Now()
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			continue
		}
		var e Entry
		var ok bool
		if mlsd {
			e, ok, err = ParseMLSD(line)
		} else {
			e, ok, err = ParseList(line, now)
		}
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("ftp: %s: %w", cmd, err)
		}
		if ok {
			e.Path = path.Join(dir, e.Name)
			if dir == "" {
				e.Path = e.Name
			}
			out = append(out, e)
		}
	}
	if err := sc.Err(); err != nil {
		d.Close()
		return nil, fmt.Errorf("ftp: %s: %w", cmd, err)
	}
	return out, d.Close()
}

// ParseMLSD parses one line of an MLSD listing (RFC 3659): facts, a
// space, the name. It reports false for the entries of the directory
// itself and its parent.
func ParseMLSD(line string) (Entry, bool, error) {
	facts, name, ok := strings.Cut(line, " ")
	if !ok || name == "" {
		return Entry{}, false, fmt.Errorf("MLSD line %q: no name after the facts", line)
	}
	e := Entry{Name: name, Type: File}
	for _, f := range strings.Split(facts, ";") {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		switch strings.ToLower(k) {
		case "type":
			switch strings.ToLower(v) {
			case "dir":
				e.Type = Dir
			case "cdir", "pdir":
				return Entry{}, false, nil
			case "os.unix=symlink", "os.unix=slink":
				e.Type = Link
			default:
				if strings.HasPrefix(strings.ToLower(v), "os.unix=slink") {
					e.Type = Link
				}
			}
		case "size":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return Entry{}, false, fmt.Errorf("MLSD line %q: size %q is not a number", line, v)
			}
			e.Size = n
		case "modify":
			t, err := parseTime(v)
			if err != nil {
				return Entry{}, false, fmt.Errorf("MLSD line %q: %w", line, err)
			}
			e.ModTime = t
		}
	}
	if name == "." || name == ".." {
		return Entry{}, false, nil
	}
	if strings.Contains(name, "/") {
		return Entry{}, false, fmt.Errorf("MLSD line %q: a name with a slash", line)
	}
	return e, true, nil
}

// parseTime reads YYYYMMDDHHMMSS[.fraction], in UTC; digits of the
// fraction beyond nanoseconds are dropped.
func parseTime(s string) (time.Time, error) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	t, err := time.Parse("20060102150405", whole)
	if err != nil || (hasFrac && frac == "") {
		return time.Time{}, fmt.Errorf("time %q is not YYYYMMDDHHMMSS[.sss]", s)
	}
	var ns int64
	for i, c := range frac {
		if c < '0' || c > '9' {
			return time.Time{}, fmt.Errorf("time %q is not YYYYMMDDHHMMSS[.sss]", s)
		}
		if i < 9 {
			ns = ns*10 + int64(c-'0')
		}
	}
	for i := len(frac); i < 9; i++ {
		ns *= 10
	}
	return t.Add(time.Duration(ns)).UTC(), nil
}

// ParseList parses one line of a LIST listing in the Unix ls -l format
// or the DOS one; now decides the year of recent Unix dates, which omit
// it. It reports false for "total" lines and the entries "." and "..".
func ParseList(line string, now time.Time) (Entry, bool, error) {
	if strings.HasPrefix(line, "total ") {
		return Entry{}, false, nil
	}
	if len(line) > 0 && line[0] >= '0' && line[0] <= '9' {
		return parseDOS(line)
	}
	f := fieldsN(line, 8)
	if len(f) < 8 || len(f[0]) < 10 {
		return Entry{}, false, fmt.Errorf("LIST line %q: neither the Unix nor the DOS format", line)
	}
	e := Entry{Type: File}
	switch f[0][0] {
	case 'd':
		e.Type = Dir
	case 'l':
		e.Type = Link
	case '-', 'b', 'c', 'p', 's':
	default:
		return Entry{}, false, fmt.Errorf("LIST line %q: mode %q", line, f[0])
	}
	// Some servers leave out the group: the size is then the fourth
	// field. Find the month and count back.
	month := -1
	for i := 3; i <= 5 && i < len(f); i++ {
		if _, err := time.Parse("Jan", f[i]); err == nil {
			month = i
			break
		}
	}
	if month < 0 || month+3 > len(f) {
		return Entry{}, false, fmt.Errorf("LIST line %q: no date", line)
	}
	n, err := strconv.ParseInt(f[month-1], 10, 64)
	if err != nil || n < 0 {
		return Entry{}, false, fmt.Errorf("LIST line %q: size %q is not a number", line, f[month-1])
	}
	e.Size = n
	when := f[month] + " " + f[month+1] + " " + f[month+2]
	if strings.Contains(f[month+2], ":") {
		t, err := time.Parse("Jan 2 15:04", when)
		if err != nil {
			return Entry{}, false, fmt.Errorf("LIST line %q: date %q", line, when)
		}
		t = t.AddDate(now.Year(), 0, 0)
		if t.After(now.AddDate(0, 0, 1)) {
			t = t.AddDate(-1, 0, 0)
		}
		e.ModTime = t
	} else if t, err := time.Parse("Jan 2 2006", when); err == nil {
		e.ModTime = t
	} else {
		return Entry{}, false, fmt.Errorf("LIST line %q: date %q", line, when)
	}
	// The name is everything after the date's third field, which may
	// hold spaces: take it from the line, not the fields.
	name := restAfterFields(line, month+3)
	if e.Type == Link {
		if n, target, ok := strings.Cut(name, " -> "); ok {
			name, e.Link = n, target
		}
	}
	if name == "." || name == ".." {
		return Entry{}, false, nil
	}
	if name == "" || strings.Contains(name, "/") {
		return Entry{}, false, fmt.Errorf("LIST line %q: name %q", line, name)
	}
	e.Name = name
	return e, true, nil
}

func parseDOS(line string) (Entry, bool, error) {
	f := strings.Fields(line)
	if len(f) < 4 {
		return Entry{}, false, fmt.Errorf("LIST line %q: neither the Unix nor the DOS format", line)
	}
	t, err := time.Parse("01-02-06 03:04PM", f[0]+" "+f[1])
	if err != nil {
		if t, err = time.Parse("01-02-2006 15:04", f[0]+" "+f[1]); err != nil {
			return Entry{}, false, fmt.Errorf("LIST line %q: DOS date %q", line, f[0]+" "+f[1])
		}
	}
	e := Entry{ModTime: t, Type: File, Name: restAfterFields(line, 3)}
	if f[2] == "<DIR>" {
		e.Type = Dir
	} else if e.Size, err = strconv.ParseInt(f[2], 10, 64); err != nil || e.Size < 0 {
		return Entry{}, false, fmt.Errorf("LIST line %q: size %q", line, f[2])
	}
	if e.Name == "." || e.Name == ".." {
		return Entry{}, false, nil
	}
	if e.Name == "" || strings.ContainsAny(e.Name, "/\\") {
		return Entry{}, false, fmt.Errorf("LIST line %q: name %q", line, e.Name)
	}
	return e, true, nil
}

// fieldsN splits on runs of spaces into at most n+1 fields, the last
// being the rest.
func fieldsN(s string, n int) []string {
	var out []string
	for len(out) < n {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return out
		}
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	if s = strings.TrimLeft(s, " "); s != "" {
		out = append(out, s)
	}
	return out
}

// restAfterFields is the line after its first n space-separated fields
// and the single space that follows them.
func restAfterFields(s string, n int) string {
	for i := 0; i < n; i++ {
		s = strings.TrimLeft(s, " ")
		j := strings.IndexByte(s, ' ')
		if j < 0 {
			return ""
		}
		s = s[j:]
	}
	return strings.TrimLeft(s, " ")
}

// Walk lists dir and every directory under it, depth first, calling fn
// with each entry; Path is relative to nothing, as the server names it.
func (c *Conn) Walk(ctx context.Context, dir string, fn func(Entry) error) error {
	list, err := c.List(ctx, dir)
	if err != nil {
		return err
	}
	for _, e := range list {
		if err := fn(e); err != nil {
			return err
		}
		if e.Type == Dir {
			if err := c.Walk(ctx, e.Path, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

var _ io.Closer = (*Conn)(nil)
