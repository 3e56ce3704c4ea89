package cli

import (
	"github.com/spf13/cobra"
)

// The groups of netkit --help, one per layer of the stack.
const (
	groupNetwork     = "network"
	groupTransport   = "transport"
	groupApplication = "application"
	groupMiddleboxes = "middleboxes"
	groupOther       = "other"
)

func newRoot(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "netkit",
		Short: "The TCP/IP stack, layer by layer, in one program",
		Long: `netkit is a network programming toolkit: addresses and routes, TCP and UDP
clients and servers, DNS, HTTP over a raw socket and more, in one program.

Commands exit 0 on success, 1 when the operation failed (refused, timed out,
not found, a check failed) and 2 on bad usage or bad input.`,
		Example: `  netkit ifaces
  netkit dns resolve localhost
  netkit hostname --json`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       buildVersion().Version,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.CompletionOptions.HiddenDefaultCmd = false

	pf := root.PersistentFlags()
	pf.BoolVar(&a.json, "json", false, "print machine-readable JSON (one document, or one line per event)")
	pf.DurationVar(&a.timeout, "timeout", 0, "give up on the whole operation after this long (0 means no limit)")
	pf.CountVarP(&a.verbose, "verbose", "v", "log more to stderr (-vv for debug)")
	pf.StringVar(&a.color, "color", "auto", "colour output: auto, always or never (auto honours NO_COLOR)")

	root.SetHelpCommandGroupID(groupOther)
	root.SetCompletionCommandGroupID(groupOther)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: err, showUsage: true}
	})

	root.AddCommand(
		newIfacesCmd(a),
		newIPCmd(a),
		newRouteCmd(a),
		newHostnameCmd(a),
		newDNSCmd(a),
		newHTTPCmd(a),
		newMailCmd(a),
		newSSHCmd(a),
		newSFTPCmd(a),
		newSSHDCmd(a),
		newFTPCmd(a),
		newDecodeCmd(a),
		newCaptureCmd(a),
		newRFCCmd(a),
		newServeCmd(a),
		newConnectCmd(a),
		newListenCmd(a),
		newForwardCmd(a),
		newGatewayCmd(a),
		newImpairCmd(a),
		newSendCmd(a),
		newReceiveCmd(a),
		newServicesCmd(a),
		newSNMPCmd(a),
		newScanCmd(a),
		newPerfCmd(a),
		newBenchCmd(a),
		newVersionCmd(a),
		newTourCmd(a),
	)
	addGroups(root)
	return root
}

// addGroups adds the help groups, in layer order, that have commands.
func addGroups(root *cobra.Command) {
	used := map[string]bool{groupOther: true} // help and completion
	for _, c := range root.Commands() {
		used[c.GroupID] = true
	}
	for _, g := range []cobra.Group{
		{ID: groupNetwork, Title: "Network layer (IP):"},
		{ID: groupTransport, Title: "Transport layer (TCP, UDP):"},
		{ID: groupApplication, Title: "Application layer:"},
		{ID: groupMiddleboxes, Title: "Middleboxes (firewall, NAT):"},
		{ID: groupOther, Title: "Other:"},
	} {
		if used[g.ID] {
			root.AddGroup(&g)
		}
	}
}
