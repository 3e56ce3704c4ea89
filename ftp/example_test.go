package ftp_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/netkit-dev/netkit/ftp"
)

// Serve a directory over FTP, list it, and fetch a file over three
// connections at once.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "big.bin"), make([]byte, 3<<20), 0o644)

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go (&ftp.Server{Root: dir}).Serve(sctx, ln)

	c, err := ftp.Dial(ctx, ln.Addr().String(), ftp.Options{}) // anonymous, passive
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Quit()
	list, _ := c.List(ctx, "")
	for _, e := range list {
		fmt.Println(e.Type, e.Name, e.Size)
	}
	st, err := c.Get(ctx, "big.bin", filepath.Join(dir, "copy.bin"), ftp.TransferOptions{Segments: 3})
	fmt.Println(st.Bytes, st.Segments, err)
	// Output:
	// file big.bin 3145728
	// 3145728 3 <nil>
}
