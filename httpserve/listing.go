package httpserve

import (
	"cmp"
	"encoding/json"
	"fmt"
	"html"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// Entry is one name in a directory listing (the JSON form).
type Entry struct {
	Name     string    `json:"name"`
	Type     string    `json:"type"` // "file", "dir", "symlink" or "other"
	Size     int64     `json:"size"`
	Modified time.Time `json:"modified"`
	URL      string    `json:"url"` // relative to the directory, escaped
}

// Listing is a directory's listing (the JSON form).
type Listing struct {
	Path    string  `json:"path"`
	Entries []Entry `json:"entries"`
}

func (f *Files) list(w http.ResponseWriter, r *http.Request, dir *os.File, rel string) {
	des, err := dir.ReadDir(-1)
	if err != nil {
		openError(w, err)
		return
	}
	l := Listing{Path: r.URL.Path, Entries: make([]Entry, 0, len(des))}
	for _, de := range des {
		name := de.Name()
		if !f.Dotfiles && strings.HasPrefix(name, ".") {
			continue
		}
		e := Entry{Name: name, Type: "other", URL: (&url.URL{Path: name}).EscapedPath()}
		switch t := de.Type(); {
		case t.IsDir():
			e.Type = "dir"
			e.URL += "/"
		case t.IsRegular():
			e.Type = "file"
		case t&fs.ModeSymlink != 0:
			e.Type = "symlink"
		}
		if fi, err := de.Info(); err == nil {
			e.Modified = fi.ModTime().UTC().Truncate(time.Second)
			if e.Type == "file" {
				e.Size = fi.Size()
			}
		}
		// A name such as "a:b" would read as a URL scheme.
		if strings.Contains(strings.SplitN(e.URL, "/", 2)[0], ":") {
			e.URL = "./" + e.URL
		}
		l.Entries = append(l.Entries, e)
	}
	slices.SortFunc(l.Entries, func(a, b Entry) int { return cmp.Compare(a.Name, b.Name) })
	w.Header().Set("Vary", "Accept")
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodHead {
			return
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(l)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.Method == http.MethodHead {
		return
	}
	var b strings.Builder
	title := html.EscapeString(l.Path)
	fmt.Fprintf(&b, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Index of %s</title></head>\n<body>\n<h1>Index of %s</h1>\n<table>\n<tr><th>Name</th><th>Size</th><th>Modified</th></tr>\n", title, title)
	if rel != "." {
		b.WriteString("<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n")
	}
	for _, e := range l.Entries {
		name, size := e.Name, fmt.Sprint(e.Size)
		if e.Type == "dir" {
			name, size = name+"/", "-"
		}
		fmt.Fprintf(&b, "<tr><td><a href=\"%s\">%s</a></td><td>%s</td><td>%s</td></tr>\n",
			html.EscapeString(e.URL), html.EscapeString(name), size, e.Modified.Format(time.RFC3339))
	}
	b.WriteString("</table>\n</body></html>\n")
	_, _ = w.Write([]byte(b.String()))
}

// wantsJSON says whether Accept prefers application/json to text/html.
func wantsJSON(r *http.Request) bool {
	accept := strings.Join(r.Header.Values("Accept"), ",")
	jq, hq := -1.0, -1.0
	for item := range strings.SplitSeq(accept, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(item), ";")
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "q") {
				fmt.Sscanf(v, "%g", &q)
			}
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "application/json":
			jq = max(jq, q)
		case "text/html":
			hq = max(hq, q)
		}
	}
	return jq > 0 && jq > hq
}
