package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/spf13/cobra"
)

func newHostnameCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "hostname",
		Short:   "Print this machine's host name (gethostname)",
		Example: "  netkit hostname\n  netkit hostname --json",
		GroupID: groupApplication,
		Args:    noArgs,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			name, err := os.Hostname()
			if err != nil {
				return fmt.Errorf("gethostname: %w", err)
			}
			return a.render(hostnameResult{Hostname: name})
		}),
	}
}

type hostnameResult struct {
	Hostname string `json:"hostname"`
}

func (r hostnameResult) writeHuman(w io.Writer, st textui.Style) error {
	_, err := fmt.Fprintln(w, r.Hostname)
	return err
}
