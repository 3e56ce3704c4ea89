package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/netkit-dev/netkit/gateway"
	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/spf13/cobra"
)

// defaultAdmin is where gateway run puts its admin socket, and where
// status and reload look, unless told otherwise.
const defaultAdmin = "/run/netkit-gateway.sock"

func newGatewayCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gateway",
		Short: "A firewall and NAT in user space: rules, port forwards, a flow table",
		Long: `A gateway in front of services: it listens on public ports, decides each
new flow by ordered rules (protocol, source prefix, destination port, time
window; the first match decides, and what no rule matches is denied unless
the file says otherwise), and forwards what is allowed to private targets
(DNAT), with the source rewritten to the gateway's own address or passed on
in a PROXY protocol v2 header. Its configuration is a TOML file: see
docs/gateway.md.

  run FILE                 serve FILE (SIGHUP or "gateway reload" reads it again)
  check FILE               find shadowed rules, unreachable forwards, overlaps
  explain FILE --flow F    say what each rule makes of one flow, and why
  status                   the running gateway's flow table and rule counters
  reload                   read the running gateway's file again`,
		Example: `  netkit gateway check gateway.toml
  netkit gateway explain gateway.toml --flow "tcp 203.0.113.5:40000 -> 198.51.100.1:80"
  netkit gateway run gateway.toml --admin /tmp/gw.sock &
  netkit gateway status --admin /tmp/gw.sock`,
		GroupID: groupMiddleboxes,
	}
	cmd.AddCommand(newGatewayRunCmd(a), newGatewayCheckCmd(a), newGatewayExplainCmd(a), newGatewayStatusCmd(a), newGatewayReloadCmd(a))
	return cmd
}

func newGatewayRunCmd(a *app) *cobra.Command {
	var o gateway.RunOptions
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Serve a gateway configuration",
		Long: `Bind every listener FILE declares and forward the flows its rules allow,
until interrupted. SIGHUP, or netkit gateway reload, reads FILE again: a
file that does not parse, or whose new listeners cannot bind, is refused
and the running configuration stays; otherwise established flows that the
new rules still allow go on, and the rest are closed and counted.

Flows turned away are logged to stderr with the rule that decided;
-v logs reloads and the flows of rules with log = true as well.`,
		Args: exactArgs(1, "FILE, the gateway's configuration"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			o.Reload = hup
			o.Logger = a.logger()
			o.Admin = cmp.Or(o.Admin, os.Getenv("NETKIT_GATEWAY_ADMIN"))
			o.DefaultAdmin = defaultAdmin
			o.Ready = func(g *gateway.Gateway) {
				st := g.Status()
				for _, f := range st.Forwards {
					fmt.Fprintf(a.io.Err, "gateway: %s listening on %s %s\n", f.Name, f.Proto, f.Listen)
				}
			}
			return gateway.Run(ctx, args[0], o)
		}),
	}
	cmd.Flags().StringVar(&o.Admin, "admin", "", "the admin socket (default: $NETKIT_GATEWAY_ADMIN, else the file's admin key, else "+defaultAdmin+")")
	return cmd
}

type gatewayFindings struct {
	File     string            `json:"file"`
	Findings []gateway.Finding `json:"findings"`
}

func (r gatewayFindings) writeHuman(w io.Writer, st textui.Style) error {
	for _, f := range r.Findings {
		fmt.Fprintln(w, f)
	}
	if len(r.Findings) == 0 {
		fmt.Fprintf(w, "%s: no findings\n", r.File)
	}
	return nil
}

func newGatewayCheckCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE",
		Short: "Validate a gateway configuration and find what would not work as meant",
		Long: `Parse FILE strictly (an unknown key or a bad value is an error with its line
and column, exit 2), then look for: rules that never decide, being fully
covered by an earlier rule; forwards that no rule allows; listeners that
overlap; a missing explicit default; timeouts under the RFCs' minimums;
rules that match no forward. Each finding names file:line:col. Exits 1 when
there are findings.`,
		Args: exactArgs(1, "FILE, the gateway's configuration"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			c, err := gateway.Load(args[0])
			if err != nil {
				return err
			}
			r := gatewayFindings{File: args[0], Findings: gateway.Check(c)}
			if err := a.render(r); err != nil {
				return err
			}
			if len(r.Findings) > 0 {
				return errSilentFailure
			}
			return nil
		}),
	}
}

type gatewayExplanation struct{ gateway.Explanation }

func (e gatewayExplanation) writeHuman(w io.Writer, _ textui.Style) error { return e.WriteText(w) }

func newGatewayExplainCmd(a *app) *cobra.Command {
	var flow, at string
	cmd := &cobra.Command{
		Use:   "explain FILE --flow FLOW",
		Short: "Say what the rules make of one flow, and why",
		Long: `Try every rule of FILE against FLOW ("PROTO SRC:PORT -> DST:PORT", as
conntrack prints one) and say why each matches or not, the verdict (the
first match, or the default), and the translation an allowed flow gets.
--at gives the time for rules with time windows (RFC 3339, or HH:MM
today); the default is now.`,
		Args: exactArgs(1, "FILE, the gateway's configuration"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			f, err := gateway.ParseFlow(flow)
			if err != nil {
				return usageError("--flow: %v", err)
			}
			c, err := gateway.Load(args[0])
			if err != nil {
				return err
			}
			now, err := gateway.ParseTime(at, time.Now().In(c.Location()))
			if err != nil {
				return usageError("--at: %v", err)
			}
			return a.render(gatewayExplanation{c.Explain(f, now)})
		}),
	}
	cmd.Flags().StringVar(&flow, "flow", "", `the flow, such as "tcp 203.0.113.5:40000 -> 198.51.100.1:80" (required)`)
	cmd.Flags().StringVar(&at, "at", "", "the time to decide at: RFC 3339, or HH:MM today (default: now)")
	cmd.MarkFlagRequired("flow")
	return cmd
}

type gatewayStatus struct{ gateway.Status }

func (s gatewayStatus) writeHuman(w io.Writer, _ textui.Style) error { return s.WriteText(w) }

type gatewayReload struct{ gateway.ReloadReport }

func (r gatewayReload) writeHuman(w io.Writer, _ textui.Style) error {
	_, err := fmt.Fprintf(w, "reloaded: %d flows kept, %d closed; forwards added %v, removed %v\n", r.Kept, r.Closed, r.Added, r.Removed)
	return err
}

func newGatewayStatusCmd(a *app) *cobra.Command {
	var admin string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show a running gateway's forwards, rule counters and flow table",
		Long: `Ask the running gateway, over its admin socket (a Unix socket, never
reachable from the network), for its forwards and their targets, how many
flows each rule decided, and the flow table: each flow as it came in
(client -> listen) and as it goes out (local -> target), its state, bytes
and packets each way, and age.`,
		Args: exactArgs(0, ""),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			st, err := gateway.AdminClient{Path: adminPath(admin)}.Status(ctx)
			if err != nil {
				return err
			}
			return a.render(gatewayStatus{st})
		}),
	}
	cmd.Flags().StringVar(&admin, "admin", "", "the admin socket (default: $NETKIT_GATEWAY_ADMIN, else "+defaultAdmin+")")
	return cmd
}

func newGatewayReloadCmd(a *app) *cobra.Command {
	var admin string
	cmd := &cobra.Command{
		Use:   "reload",
		Short: "Make a running gateway read its file again",
		Long: `Ask the running gateway, over its admin socket, to read its file again, as
SIGHUP does, and say what changed. A file that does not load is refused
(exit 1, with the reason) and the running configuration stays.`,
		Args: exactArgs(0, ""),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			rep, err := gateway.AdminClient{Path: adminPath(admin)}.Reload(ctx)
			if err != nil {
				return err
			}
			return a.render(gatewayReload{rep})
		}),
	}
	cmd.Flags().StringVar(&admin, "admin", "", "the admin socket (default: $NETKIT_GATEWAY_ADMIN, else "+defaultAdmin+")")
	return cmd
}

func adminPath(flag string) string {
	return cmp.Or(flag, os.Getenv("NETKIT_GATEWAY_ADMIN"), defaultAdmin)
}
