package mail

import (
	"bytes"
	"strings"
	"testing"
)

// A client line logged as the server's (a TLS read between a command's
// write and its logging) is still masked, and shown as the client's.
func TestWireMasksMisattributedCredentials(t *testing.T) {
	var out bytes.Buffer
	w := &Wire{W: &out}
	w.Received([]byte("* OK ready\r\n"))
	w.Received([]byte("T2 LOGIN \"ann\" \"pop secret\"\r\n"))
	w.Received([]byte("T2 OK Logged in\r\n"))
	w.Received([]byte("AUTH PLAIN AGFubgBzM2NyZXQ=\r\n"))
	w.Received([]byte("235 2.7.0 Authentication successful\r\n"))
	w.Received([]byte("T3 AUTHENTICATE PLAIN\r\n"))
	w.Received([]byte("+ \r\n"))
	w.Received([]byte("AGFubgBzM2NyZXQ=\r\n"))
	w.Received([]byte("T3 OK done\r\n"))
	got := out.String()
	for _, secret := range []string{"pop secret", "AGFubgBzM2NyZXQ="} {
		if strings.Contains(got, secret) {
			t.Errorf("%q shown:\n%s", secret, got)
		}
	}
	for _, want := range []string{"C: T2 LOGIN \"ann\" ****", "C: AUTH PLAIN ****", "C: ****", "S: T3 OK done"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
}
