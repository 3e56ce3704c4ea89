package httpwire

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"
)

// FuzzReadResponse parses random responses with ReadResponse and with
// net/http's ReadResponse. It never panics, and where both accept a
// response and read its body to the end they agree on the status code and
// on every byte of the body. (We are stricter than net/http in places, so
// only agreement is checked, not that we accept all it accepts.)
func FuzzReadResponse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nX: y\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nuntil close",
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n",
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
		"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, head bool) {
		method := "GET"
		if head {
			method = "HEAD"
		}
		ours, oursErr := readAll(data, method)
		br := bufio.NewReader(bytes.NewReader(data))
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		for err == nil && resp.StatusCode/100 == 1 && resp.StatusCode != 101 {
			resp, err = http.ReadResponse(br, &http.Request{Method: method}) // ours reads past 1xx
		}
		if oursErr != nil || err != nil {
			return
		}
		theirs, err := io.ReadAll(resp.Body)
		if err != nil {
			return
		}
		if ours.code != resp.StatusCode {
			t.Fatalf("status %d, net/http says %d", ours.code, resp.StatusCode)
		}
		if !bytes.Equal(ours.body, theirs) {
			t.Fatalf("body %q, net/http says %q", ours.body, theirs)
		}
	})
}

type parsed struct {
	code int
	body []byte
}

func readAll(data []byte, method string) (parsed, error) {
	resp, err := ReadResponse(bufio.NewReader(bytes.NewReader(data)), method, Limits{})
	if err != nil {
		return parsed{}, err
	}
	b, err := io.ReadAll(resp.Body)
	return parsed{resp.StatusCode, b}, err
}
