package rfc

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Entry is one RFC in the RFC Editor's index.
type Entry struct {
	Number      int      `json:"number"`
	Title       string   `json:"title"`
	Authors     []string `json:"authors"`
	Month       string   `json:"month,omitempty"`
	Year        int      `json:"year,omitempty"`
	Status      string   `json:"status"`
	Stream      string   `json:"stream,omitempty"`
	Pages       int      `json:"pages,omitempty"`
	Keywords    []string `json:"keywords,omitempty"`
	Abstract    string   `json:"abstract,omitempty"`
	Obsoletes   []string `json:"obsoletes,omitempty"`
	ObsoletedBy []string `json:"obsoleted_by,omitempty"`
	Updates     []string `json:"updates,omitempty"`
	UpdatedBy   []string `json:"updated_by,omitempty"`
	IsAlso      []string `json:"is_also,omitempty"`
	DOI         string   `json:"doi,omitempty"`
}

// Date renders the publication date as the index gives it: "September 1981".
func (e *Entry) Date() string {
	if e.Year == 0 {
		return e.Month
	}
	return strings.TrimSpace(e.Month + " " + strconv.Itoa(e.Year))
}

// Obsolete reports whether a later RFC obsoletes this one.
func (e *Entry) Obsolete() bool { return len(e.ObsoletedBy) > 0 }

// Index is the parsed rfc-index.xml.
type Index struct {
	entries map[int]*Entry
	// NotIssued holds numbers that were assigned and never published.
	NotIssued map[int]bool
}

// Lookup returns the entry for RFC n.
func (ix *Index) Lookup(n int) (*Entry, bool) {
	e, ok := ix.entries[n]
	return e, ok
}

// Len returns the number of RFCs in the index.
func (ix *Index) Len() int { return len(ix.entries) }

// xmlEntry mirrors an <rfc-entry>. Tags carry no namespace, so they match
// the index's own.
type xmlEntry struct {
	DocID   string `xml:"doc-id"`
	Title   string `xml:"title"`
	Authors []struct {
		Name string `xml:"name"`
	} `xml:"author"`
	Date struct {
		Month string `xml:"month"`
		Year  string `xml:"year"`
	} `xml:"date"`
	Pages       string   `xml:"page-count"`
	Keywords    []string `xml:"keywords>kw"`
	Abstract    []string `xml:"abstract>p"`
	Obsoletes   []string `xml:"obsoletes>doc-id"`
	ObsoletedBy []string `xml:"obsoleted-by>doc-id"`
	Updates     []string `xml:"updates>doc-id"`
	UpdatedBy   []string `xml:"updated-by>doc-id"`
	IsAlso      []string `xml:"is-also>doc-id"`
	Status      string   `xml:"current-status"`
	Stream      string   `xml:"stream"`
	DOI         string   `xml:"doi"`
}

// ParseIndex reads rfc-index.xml as the RFC Editor publishes it. It
// streams: only the entries are kept, never the document tree.
func ParseIndex(r io.Reader) (*Index, error) {
	ix := &Index{entries: make(map[int]*Entry), NotIssued: make(map[int]bool)}
	d := xml.NewDecoder(r)
	sawRoot := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("rfc index: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "rfc-index":
			sawRoot = true
		case "rfc-entry":
			var x xmlEntry
			if err := d.DecodeElement(&x, &se); err != nil {
				return nil, fmt.Errorf("rfc index: %w", err)
			}
			n, ok := docNumber(x.DocID)
			if !ok {
				line, _ := d.InputPos()
				return nil, fmt.Errorf("rfc index line %d: doc-id %q is not RFCnnnn", line, x.DocID)
			}
			e := &Entry{
				Number: n, Title: clean(x.Title), Month: x.Date.Month, Status: x.Status,
				Stream: x.Stream, DOI: x.DOI, Keywords: x.Keywords,
				Obsoletes: docIDs(x.Obsoletes), ObsoletedBy: docIDs(x.ObsoletedBy),
				Updates: docIDs(x.Updates), UpdatedBy: docIDs(x.UpdatedBy), IsAlso: docIDs(x.IsAlso),
			}
			e.Year, _ = strconv.Atoi(x.Date.Year)
			e.Pages, _ = strconv.Atoi(x.Pages)
			for _, a := range x.Authors {
				e.Authors = append(e.Authors, clean(a.Name))
			}
			var ps []string
			for _, p := range x.Abstract {
				ps = append(ps, clean(p))
			}
			e.Abstract = strings.Join(ps, "\n\n")
			ix.entries[n] = e
		case "rfc-not-issued-entry":
			var x struct {
				DocID string `xml:"doc-id"`
			}
			if err := d.DecodeElement(&x, &se); err != nil {
				return nil, fmt.Errorf("rfc index: %w", err)
			}
			if n, ok := docNumber(x.DocID); ok {
				ix.NotIssued[n] = true
			}
		}
	}
	if !sawRoot {
		return nil, errors.New("rfc index: no <rfc-index> element: this is not the RFC Editor's rfc-index.xml")
	}
	return ix, nil
}

// docNumber reads "RFC0791" as 791.
func docNumber(id string) (int, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(id), "RFC")
	if !ok || rest == "" {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n > 0
}

// docIDs renders "RFC0760" as "RFC 760", and others (STD0005) likewise.
func docIDs(ids []string) []string {
	var out []string
	for _, id := range ids {
		id = strings.TrimSpace(id)
		i := strings.IndexFunc(id, func(r rune) bool { return r >= '0' && r <= '9' })
		if i <= 0 {
			out = append(out, id)
			continue
		}
		n, err := strconv.Atoi(id[i:])
		if err != nil {
			out = append(out, id)
			continue
		}
		out = append(out, id[:i]+" "+strconv.Itoa(n))
	}
	return out
}

// clean collapses runs of whitespace.
func clean(s string) string { return strings.Join(strings.Fields(s), " ") }

// Result is one search hit.
type Result struct {
	*Entry
	Score float64 `json:"score"`
}

// Search ranks the RFCs that contain every word (case-insensitive, whole
// words) in their title, keywords or abstract. A word in the title counts
// three times as much as in the keywords, and that twice as much as in the
// abstract; rare words count more than common ones (inverse document
// frequency). Ties go to the newer RFC.
func (ix *Index) Search(words []string, excludeObsolete bool) []Result {
	var terms []string
	for _, w := range words {
		terms = append(terms, tokens(w)...)
	}
	if len(terms) == 0 {
		return nil
	}
	type doc struct {
		e                   *Entry
		title, kw, abstract map[string]int
	}
	docs := make([]doc, 0, len(ix.entries))
	df := make(map[string]int)
	for _, e := range ix.entries {
		d := doc{e: e, title: counts(e.Title), kw: counts(strings.Join(e.Keywords, " ")), abstract: counts(e.Abstract)}
		for _, t := range terms {
			if d.title[t]+d.kw[t]+d.abstract[t] > 0 {
				df[t]++
			}
		}
		docs = append(docs, d)
	}
	var out []Result
	n := float64(len(docs))
	for _, d := range docs {
		if excludeObsolete && d.e.Obsolete() {
			continue
		}
		score := 0.0
		for _, t := range terms {
			tf := 3*float64(d.title[t]) + 2*float64(d.kw[t]) + float64(d.abstract[t])
			if tf == 0 {
				score = 0
				break
			}
			score += (1 + math.Log(tf)) * math.Log(1+n/float64(df[t]))
		}
		if score > 0 {
			out = append(out, Result{d.e, math.Round(score*1000) / 1000})
		}
	}
	slices.SortFunc(out, func(a, b Result) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return b.Number - a.Number
	})
	return out
}

// tokens splits text into lower-case words of letters and digits.
func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127)
	})
}

func counts(s string) map[string]int {
	m := make(map[string]int)
	for _, t := range tokens(s) {
		m[t]++
	}
	return m
}
