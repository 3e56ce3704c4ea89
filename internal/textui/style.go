// Package textui draws what netkit's command line and tour show people:
// aligned tables, colours that honour NO_COLOR, horizontal bar charts and
// progress bars that appear only on a terminal.
package textui

import "strings"

// Style colours text for a terminal, or leaves it alone. The zero Style
// leaves text alone.
type Style struct{ On bool }

func (s Style) wrap(code, text string) string {
	if !s.On || text == "" {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

func (s Style) Bold(t string) string   { return s.wrap("1", t) }
func (s Style) Dim(t string) string    { return s.wrap("2", t) }
func (s Style) Red(t string) string    { return s.wrap("31", t) }
func (s Style) Green(t string) string  { return s.wrap("32", t) }
func (s Style) Yellow(t string) string { return s.wrap("33", t) }
func (s Style) Cyan(t string) string   { return s.wrap("36", t) }

// ColorEnabled decides whether to colour output: "always" and "never" are
// obeyed; "auto" colours only a terminal, and not when NO_COLOR is set
// (https://no-color.org) or TERM is dumb.
func ColorEnabled(mode string, tty bool, getenv func(string) string) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	return tty && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}

// Wrap fills text to width, each line indented; paragraphs (split by a
// blank line) stay apart.
func Wrap(text string, width int, indent string) string {
	var b strings.Builder
	for i, para := range strings.Split(text, "\n\n") {
		if i > 0 {
			b.WriteString("\n\n")
		}
		line := indent
		for _, w := range strings.Fields(para) {
			if len(line) > len(indent) && len(line)+1+len(w) > width {
				b.WriteString(line + "\n")
				line = indent
			}
			if len(line) > len(indent) {
				line += " "
			}
			line += w
		}
		b.WriteString(line)
	}
	return b.String()
}
