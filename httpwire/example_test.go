package httpwire_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/netkit-dev/netkit/httpwire"
)

// HTTP/1.1 over a raw socket, with the bytes on the wire shown as curl -v
// shows them.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil // keep the output the same each run
		io.WriteString(w, "hello\n")
	}))
	defer srv.Close()

	req, err := httpwire.NewRequest("GET", srv.URL+"/greeting", nil)
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Add("Accept", "text/plain")
	c := &httpwire.Client{UserAgent: "example"}
	var wire strings.Builder
	trace := httpwire.WireTrace(&wire, 0)
	trace.Connected = nil // the port differs each run
	c.Trace = trace
	resp, err := c.Do(context.Background(), req)
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	port := req.URL.Port()
	fmt.Print(strings.NewReplacer(":"+port, ":PORT", " \n", "\n").Replace(wire.String()))
	fmt.Printf("%d %s, %s framing: %q\n", resp.StatusCode, resp.Reason, resp.Framing, body)
	// Output:
	// > GET /greeting HTTP/1.1
	// > Host: 127.0.0.1:PORT
	// > User-Agent: example
	// > Accept: text/plain
	// >
	// < HTTP/1.1 200 OK
	// < Content-Length: 6
	// < Content-Type: text/plain; charset=utf-8
	// <
	// 200 OK, content-length framing: "hello\n"
}
