// Package fieldlines reads the line-oriented text files that netkit takes
// as input (route tables, /etc/services, scan policies, query lists):
// whitespace-separated fields, '#' comments to the end of a line, blank
// lines skipped.
package fieldlines

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Each calls fn with the fields of every line that has any once its
// comment is cut, and the line's number (from 1). An error from fn stops
// the reading and comes back as "name:line: error"; an error reading r as
// "name: error".
func Each(r io.Reader, name string, fn func(line int, fields []string) error) error {
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		text, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(text)
		if len(f) == 0 {
			continue
		}
		if err := fn(n, f); err != nil {
			return fmt.Errorf("%s:%d: %w", name, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
