package transfer_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/netkit-dev/netkit/rudp"
	"github.com/netkit-dev/netkit/transfer"
)

// A file sent over rudp and checked by its SHA-256 before it takes its
// name, as netkit send and receive do.
func Example() {
	dir, _ := os.MkdirTemp("", "transfer")
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "notes.txt")
	os.WriteFile(src, []byte("the tutorials' notes\n"), 0o600)

	l, err := rudp.Listen("udp", "127.0.0.1:0", rudp.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	r := &transfer.Receiver{Dir: filepath.Join(dir, "in")}
	done := make(chan error)
	go func() { done <- r.Serve(context.Background(), l, false) }()

	res, err := transfer.Send(context.Background(), l.Addr().String(), src, transfer.SendOptions{})
	if err != nil {
		log.Fatal(err)
	}
	if err := <-done; err != nil {
		log.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "in", "notes.txt"))
	fmt.Printf("%s: %d bytes, SHA-256 %s...\n%s", res.Name, res.Bytes, res.SHA256[:12], b)
	// Output:
	// notes.txt: 21 bytes, SHA-256 673d6b1b4374...
	// the tutorials' notes
}
