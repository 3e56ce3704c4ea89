package mail

import (
	"mime"

	"golang.org/x/net/html/charset"
)

// mimeDecoder decodes RFC 2047 encoded words in any character set that
// the WHATWG encoding standard names, leaving what it cannot decode as it
// was.
type mimeDecoder struct{ d mime.WordDecoder }

func (m *mimeDecoder) decode(s string) string {
	m.d.CharsetReader = charset.NewReaderLabel
	if out, err := m.d.DecodeHeader(s); err == nil {
		return out
	}
	return s
}
