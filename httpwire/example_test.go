package httpwire_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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

// Fetch makes several requests over one kept-alive connection and
// delivers each body: to a writer, or to a file written whole or not at
// all.
func ExampleClient_Fetch() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "page "+r.URL.Path+"\n")
	}))
	defer srv.Close()

	reqs, err := httpwire.NewRequests("GET", []string{srv.URL + "/a", srv.URL + "/b"}, nil, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "fetch")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "b.txt")
	jobs := []httpwire.Job{{Request: reqs[0]}, {Request: reqs[1], Output: file}}
	var c httpwire.Client
	defer c.CloseIdle()
	results, err := c.Fetch(context.Background(), jobs, httpwire.FetchOptions{Body: os.Stdout})
	if err != nil {
		log.Fatal(err)
	}
	saved, _ := os.ReadFile(file)
	fmt.Printf("saved %q\n", saved)
	for _, r := range results {
		fmt.Println(r.StatusLine(), r.BodyBytes, "bytes, reused:", r.Reused)
	}
	// Output:
	// page /a
	// saved "page /b\n"
	// HTTP/1.1 200 OK 8 bytes, reused: false
	// HTTP/1.1 200 OK 8 bytes, reused: true
}

// Request items as HTTPie takes them: a header, a query parameter, and a
// JSON body from a string field and a raw JSON field.
func ExampleItems_Apply() {
	items, err := httpwire.ParseItems([]string{"X-Api-Key:k1", "q==tcp", "name=netkit", "ports:=[7, 9]"})
	if err != nil {
		fmt.Println(err)
		return
	}
	req, _ := httpwire.NewRequest("POST", "http://127.0.0.1:8000/anything", nil)
	if err := items.Apply(req, false); err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(req.Body)
	fmt.Println(req.URL)
	fmt.Println(req.Header.Get("Content-Type"), req.Header.Get("X-Api-Key"))
	fmt.Println(string(body))
	// Output:
	// http://127.0.0.1:8000/anything?q=tcp
	// application/json k1
	// {"name": "netkit", "ports": [7, 9]}
}
