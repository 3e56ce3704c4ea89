// Command gendocs writes netkit's command reference in Markdown to
// standard output: go run ./internal/cli/gendocs > docs/commands.md
package main

import (
	"fmt"
	"os"

	"github.com/netkit-dev/netkit/internal/cli"
)

func main() {
	if err := cli.Reference(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}
