package cli

import (
	"io"
	"os"

	"github.com/netkit-dev/netkit/scan"
)

func readPolicy(path string) (*scan.Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return scan.ReadPolicy(f, path)
}

// writeFile writes a file through fn; "-" is stdout.
func writeFile(a *app, path string, fn func(io.Writer) error) error {
	if path == "-" {
		return fn(a.io.Out)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
