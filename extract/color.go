package extract

// The colours of jq 1.7: keys bold blue, strings green, null grey.
const (
	colorKey    = "\x1b[34;1m"
	colorString = "\x1b[0;32m"
	colorNull   = "\x1b[1;30m"
	colorReset  = "\x1b[0m"
)

// colorize appends JSON text src to dst with terminal colours. src must be
// valid JSON (gojq.Marshal's output, indented or not).
func colorize(dst, src []byte) []byte {
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(src))
			// A key is a string followed by a colon.
			k := j
			for k < len(src) && (src[k] == ' ' || src[k] == '\n') {
				k++
			}
			color := colorString
			if k < len(src) && src[k] == ':' {
				color = colorKey
			}
			dst = append(append(append(dst, color...), src[i:j]...), colorReset...)
			i = j
		case c == 'n' && i+4 <= len(src) && string(src[i:i+4]) == "null":
			dst = append(append(append(dst, colorNull...), "null"...), colorReset...)
			i += 4
		default:
			dst = append(dst, c)
			i++
		}
	}
	return dst
}
