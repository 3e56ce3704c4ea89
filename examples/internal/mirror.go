// Package internal holds what the examples' tests share: a local RFC
// mirror.
package internal

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// RFC1149 is the text the mirror serves as RFC 1149: its first lines.
const RFC1149 = "Network Working Group                                        D. Waitzman\nRequest for Comments: 1149                                       BBN STC\n"

// Mirror serves /rfc/rfc1149.txt on loopback, and 404 for anything else.
func Mirror(t *testing.T) string {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/rfc/rfc1149.txt" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(RFC1149))
	}))
	t.Cleanup(s.Close)
	return s.URL
}
