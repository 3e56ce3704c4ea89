package httpserve_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/netkit-dev/netkit/httpserve"
)

// A test API on a loopback port, asked to echo a query.
func ExampleEcho() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- (&httpserve.Server{Handler: &httpserve.Echo{}}).Serve(ctx, ln) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/status/418")
	if err == nil {
		fmt.Println(resp.Status)
		resp.Body.Close()
	}
	stop()
	fmt.Println(<-done)
	// Output:
	// 418 I'm a teapot
	// <nil>
}

// A directory served safely: a Range request for part of a file, and a
// path that climbs out of the root refused.
func ExampleFiles() {
	dir, _ := os.MkdirTemp("", "serve")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello, world\n"), 0o644)
	files, err := httpserve.OpenFiles(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer files.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go (&httpserve.Server{Handler: files}).Serve(ctx, ln)
	base := "http://" + ln.Addr().String()

	req, _ := http.NewRequest("GET", base+"/hello.txt", nil)
	req.Header.Set("Range", "bytes=7-11")
	resp, _ := http.DefaultClient.Do(req)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(b))

	resp, _ = http.Get(base + "/%2e%2e/etc/passwd")
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// 206 world
	// 400
}
