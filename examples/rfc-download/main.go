// The RFC downloader, the high-level way: net/http fetches
// {mirror}/rfc/rfcN.txt and the text is printed.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("rfc-download", flag.ContinueOnError)
	mirror := fs.String("mirror", "https://www.rfc-editor.org", "the RFC Editor, or a mirror")
	if err := fs.Parse(args); err != nil {
		return err
	}
	n, err := strconv.Atoi(fs.Arg(0))
	if err != nil || n <= 0 {
		return fmt.Errorf("usage: rfc-download [-mirror URL] NUMBER (got %q)", fs.Arg(0))
	}
	url := fmt.Sprintf("%s/rfc/rfc%d.txt", *mirror, n)
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	_, err = io.Copy(out, resp.Body)
	return err
}
