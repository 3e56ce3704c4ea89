package cli

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/server"
	"github.com/netkit-dev/netkit/snmp"
	"github.com/spf13/cobra"
)

func newSNMPTableCmd(a *app, o *snmpOptions) *cobra.Command {
	var interval time.Duration
	var cols []string
	var wo snmp.WalkOptions
	cmd := &cobra.Command{
		Use:   "table AGENT TABLE",
		Short: "A table (ifTable, ifXTable, ...) as rows and columns; counters as rates with --interval",
		Long: `Walk TABLE and print it as rows (by index) and columns. With --interval the
table is read twice, that long apart, and each counter column shows its
rate per second (a Counter32 that wrapped is counted once round).`,
		Example: `  netkit snmp table 127.0.0.1 ifTable --columns ifDescr,ifOperStatus,ifMtu
  netkit snmp table 127.0.0.1 ifXTable --columns ifName,ifHCInOctets,ifHCOutOctets --interval 5s`,
		Args: exactArgs(2, "an AGENT and a TABLE"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			root, err := snmp.Resolve(args[1])
			if err != nil {
				return err
			}
			if interval < 0 {
				return usageError("invalid --interval %s: it may not be negative", interval)
			}
			c, err := o.dial(ctx, a, args[0], 0)
			if err != nil {
				return err
			}
			defer c.Close()
			t, _, err := c.ReadTable(ctx, root, wo)
			if err != nil {
				return err
			}
			if interval > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(interval):
				}
				prev := t
				if t, _, err = c.ReadTable(ctx, root, wo); err != nil {
					return err
				}
				t.SetRates(prev)
			}
			if len(cols) > 0 {
				if err := t.Select(cols...); err != nil {
					return err
				}
			}
			return a.render(tableView{t})
		}),
	}
	cmd.Flags().DurationVar(&interval, "interval", 0, "read twice, this long apart, and show counters per second")
	cmd.Flags().StringSliceVar(&cols, "columns", nil, "only these `COLUMNS` (names or numbers), in this order")
	return cmd
}

type tableView struct{ *snmp.Table }

func (v tableView) writeHuman(w io.Writer, st textui.Style) error {
	head := []string{"INDEX"}
	for _, c := range v.Columns {
		head = append(head, c.Name)
	}
	tb := textui.NewTable(head...)
	for _, r := range v.Rows {
		row := []string{strings.TrimPrefix(r.Index.String(), ".")}
		for _, c := range v.Columns {
			cell, ok := r.Cells[c.Sub]
			text := cell.Text()
			if !ok {
				text = "-"
			} else if rate, ok := r.Rates[c.Sub]; ok {
				text = fmt.Sprintf("%.1f/s", rate)
				if strings.HasSuffix(c.Name, "Octets") {
					text = textui.FormatBytes(int64(rate)) + "/s"
				}
			}
			row = append(row, text)
		}
		tb.Add(row...)
	}
	return tb.Write(w, st)
}

func newSNMPTrapCmd(a *app, o *snmpOptions) *cobra.Command {
	var inform bool
	cmd := &cobra.Command{
		Use:   "trap RECEIVER TRAP-OID [OID TYPE VALUE...]",
		Short: "Send a notification (v2c or v3 trap, or a v2c inform) to a receiver (port 162)",
		Long: `Send the notification TRAP-OID (as linkDown, or a number) to RECEIVER (port
162 if none), with bindings after it as snmp set takes them. --inform sends
an InformRequest and waits for the receiver to acknowledge it.`,
		Example: `  netkit snmp trap 127.0.0.1 linkDown ifIndex.3 i 3
  netkit snmp trap --inform 127.0.0.1:1162 1.3.6.1.4.1.99999.0.1 1.3.6.1.4.1.99999.1 s "disk full"`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 || (len(args)-2)%3 != 0 {
				return usageError("trap takes a RECEIVER, a TRAP-OID and then OID TYPE VALUE, zero or more times")
			}
			return nil
		},
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			trapOID, err := snmp.Resolve(args[1])
			if err != nil {
				return err
			}
			vars, err := snmp.ParseBindings(args[2:])
			if err != nil {
				return err
			}
			c, err := o.dial(ctx, a, args[0], 162)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.Notify(ctx, trapOID, snmp.HostUptime(), inform, vars...); err != nil {
				return err
			}
			what := "sent"
			if inform {
				what = "acknowledged"
			}
			return a.render(notifyView{Receiver: c.Agent(), Trap: snmp.Name(trapOID), Inform: inform, What: what})
		}),
	}
	cmd.Flags().BoolVar(&inform, "inform", false, "send an InformRequest and wait for the acknowledgement (v2c)")
	return cmd
}

type notifyView struct {
	Receiver string `json:"receiver"`
	Trap     string `json:"trap"`
	Inform   bool   `json:"inform"`
	What     string `json:"result"`
}

func (v notifyView) writeHuman(w io.Writer, _ textui.Style) error {
	_, err := fmt.Fprintf(w, "%s to %s: %s\n", v.Trap, v.Receiver, v.What)
	return err
}

func newSNMPTrapsCmd(a *app, o *snmpOptions) *cobra.Command {
	var communities []string
	cmd := &cobra.Command{
		Use:   "traps LISTEN",
		Short: "Take notifications on LISTEN (HOST:PORT) and print each (NDJSON with --json)",
		Long: `Listen for traps and informs on LISTEN (HOST:PORT, port 0 for any) and print
each as it comes; informs are acknowledged. v1 and v2c notifications are
taken with any community unless --communities names them; v3 traps from
the users of --user or --users-file, whose authentication and privacy are
checked.`,
		Example: `  netkit snmp traps 127.0.0.1:1162
  netkit snmp traps [::]:162 --communities public --users-file users.txt --json`,
		Args: exactArgs(1, "the LISTEN address"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			users, err := o.users(a)
			if err != nil {
				return err
			}
			r := &snmp.TrapReceiver{Communities: communities, Users: users,
				Handle: func(t snmp.Trap) { a.emit(trapView{t, o.numeric}) },
				Dropped: func(from netip.AddrPort, why error) {
					a.logger().Info("notification not taken", "from", from, "why", why)
				}}
			if err := r.Init(); err != nil {
				return inputError(err)
			}
			return a.serveUDP(ctx, args[0], r)
		}),
	}
	cmd.Flags().StringSliceVar(&communities, "communities", nil, "take v1 and v2c notifications only with these communities")
	return cmd
}

type trapView struct {
	snmp.Trap
	numeric bool
}

func (v trapView) writeHuman(w io.Writer, st textui.Style) error {
	who := "community " + v.Community
	if v.User != "" {
		who = "user " + v.User
	}
	kind := "trap"
	if v.Inform {
		kind = "inform"
	}
	name := v.Name
	if v.numeric {
		name = v.TrapOID.String()
	}
	fmt.Fprintf(w, "%s %s v%s %s from %s (%s), uptime %s\n", v.At.UTC().Format(time.RFC3339), st.Bold(name), v.Version, kind, v.From, who,
		(snmp.Var{Type: snmp.TimeTicks, Value: v.Uptime}).Text())
	return varsView{Vars: v.Vars, numeric: v.numeric}.writeHuman(indent{w}, st)
}

// indent writes each line with two spaces before it.
type indent struct{ w io.Writer }

func (i indent) Write(p []byte) (int, error) {
	s := strings.ReplaceAll(strings.TrimSuffix(string(p), "\n"), "\n", "\n  ")
	_, err := io.WriteString(i.w, "  "+s+"\n")
	return len(p), err
}

func newSNMPServeCmd(a *app, o *snmpOptions) *cobra.Command {
	var sys snmp.System
	cmd := &cobra.Command{
		Use:   "serve LISTEN",
		Short: "A small read-only agent (v1, v2c, v3): the system group and this host's IF-MIB",
		Long: `Answer GET, GETNEXT and GETBULK on LISTEN (HOST:PORT; port 0 for any) from
the system group and IF-MIB's ifTable and ifXTable of this host's own
interfaces and counters (read at most once a second). The community is
-c (public if none); requests with another are dropped, as snmpd drops
them. v3 users come from --user (passphrases in NETKIT_SNMP_AUTH_PASS and
NETKIT_SNMP_PRIV_PASS) or --users-file, and the engine ID from
--engine-id (random if none). SET is refused (notWritable).`,
		Example: `  netkit snmp serve 127.0.0.1:1161 -c s3cret --location "rack 7"
  netkit snmp walk -c s3cret 127.0.0.1:1161 ifXTable
  netkit snmp serve 127.0.0.1:1161 --users-file users.txt --engine-id 0x80001f8880aabbccdd`,
		Args: exactArgs(1, "the LISTEN address"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			o.version = "2c" // the agent answers every version; users from the flags
			cfg, err := o.config(a)
			if err != nil {
				return err
			}
			users, err := o.users(a)
			if err != nil {
				return err
			}
			sys.Descr = "netkit " + buildVersion().Version
			agent := &snmp.Agent{Community: cfg.Community, MIB: snmp.HostMIB(sys), Logger: a.logger(), Users: users, EngineID: o.engineID}
			err = a.serveUDP(ctx, args[0], agent)
			if a.json {
				writeJSONLine(a.io.Out, struct {
					Event string `json:"event"`
					snmp.AgentStats
				}{"stopped", agent.Stats()})
				return err
			}
			st := agent.Stats()
			fmt.Fprintf(a.io.Err, "%d requests, %d answered, %d with another community or v3 user, %d not SNMP, %d not served\n",
				st.Requests, st.Answers, st.BadCommunity, st.BadPackets, st.Unsupported)
			return err
		}),
	}
	cmd.Flags().StringVar(&sys.Location, "location", "", "sysLocation")
	cmd.Flags().StringVar(&sys.Contact, "contact", "", "sysContact")
	cmd.Flags().StringVar(&sys.Name, "name", "", "sysName (default: the host name)")
	return cmd
}

// serveUDP serves h on a UDP socket at addr until ctx ends.
func (a *app) serveUDP(ctx context.Context, addr string, h server.PacketHandler) error {
	e, err := udpEndpoint(addr)
	if err != nil {
		return err
	}
	pc, err := endpoint.ListenPacket(ctx, e)
	if err != nil {
		return fmt.Errorf("listen %s: %w", e, err)
	}
	s := &server.PacketServer{Handler: h, Logger: a.logger()}
	a.announce(e, pc.LocalAddr())
	err = s.Serve(ctx, pc)
	if ctx.Err() != nil {
		return nil
	}
	return err
}
