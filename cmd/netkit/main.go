// Command netkit is the TCP/IP stack, layer by layer, as one program: run
// "netkit --help" for its commands.
package main

import (
	"os"

	"github.com/netkit-dev/netkit/internal/cli"
)

func main() { os.Exit(cli.Main()) }
