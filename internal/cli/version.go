package cli

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/spf13/cobra"
)

// version and commit are set at build time:
//
//	go build -ldflags "-X github.com/netkit-dev/netkit/internal/cli.version=v0.1.0 -X github.com/netkit-dev/netkit/internal/cli.commit=abc123"
//
// When they are empty, the module's build information fills them in.
var version, commit string

type versionInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
}

func buildVersion() versionInfo {
	v := versionInfo{Version: version, Commit: commit, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v.Version == "" && bi.Main.Version != "" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && v.Commit == "" {
				v.Commit = s.Value
			}
		}
	}
	if v.Version == "" {
		v.Version = "(devel)"
	}
	return v
}

func (v versionInfo) writeHuman(w io.Writer, st textui.Style) error {
	commit := v.Commit
	if commit == "" {
		commit = "unknown"
	}
	_, err := fmt.Fprintf(w, "netkit %s\ncommit %s\n%s %s/%s\n", st.Bold(v.Version), commit, v.Go, v.OS, v.Arch)
	return err
}

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print netkit's version, commit and Go version",
		Example: "  netkit version\n  netkit version --json",
		GroupID: groupOther,
		Args:    noArgs,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return a.render(buildVersion())
		}),
	}
}
