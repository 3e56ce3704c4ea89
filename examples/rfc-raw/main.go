// The RFC downloader one layer down: the HTTP request is written by hand
// on a TCP socket and the response read back byte for byte (httpwire),
// with the bytes on the wire shown on stderr.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strconv"

	"github.com/netkit-dev/netkit/httpwire"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, args []string, out, wire io.Writer) error {
	fs := flag.NewFlagSet("rfc-raw", flag.ContinueOnError)
	mirror := fs.String("mirror", "https://www.rfc-editor.org", "the RFC Editor, or a mirror")
	if err := fs.Parse(args); err != nil {
		return err
	}
	n, err := strconv.Atoi(fs.Arg(0))
	if err != nil || n <= 0 {
		return fmt.Errorf("usage: rfc-raw [-mirror URL] NUMBER (got %q)", fs.Arg(0))
	}
	req, err := httpwire.NewRequest("GET", fmt.Sprintf("%s/rfc/rfc%d.txt", *mirror, n), nil)
	if err != nil {
		return err
	}
	c := &httpwire.Client{Trace: httpwire.WireTrace(wire, 0)}
	defer c.CloseIdle()
	resp, err := c.Do(ctx, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: %d %s", req.URL, resp.StatusCode, resp.Reason)
	}
	_, err = io.Copy(out, resp.Body)
	return err
}
