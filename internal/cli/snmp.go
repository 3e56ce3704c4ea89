package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/snmp"
	"github.com/spf13/cobra"
)

type snmpOptions struct {
	version, community, communityFile string
	user, auth, priv, usersFile       string
	engineID                          string
	wait                              time.Duration
	retries                           int
	numeric                           bool
}

func newSNMPCmd(a *app) *cobra.Command {
	o := &snmpOptions{}
	cmd := &cobra.Command{
		Use:   "snmp",
		Short: "SNMP: read and set values, walk tables, send and take traps, a small agent",
		Long: `Talk to network devices over SNMP (v1, v2c and v3), as net-snmp's tools do.
Names of MIB-II and IF-MIB (system, interfaces, ifXTable, ip, tcp, udp) are
built in, so ifTable and sysName.0 work without MIB files; numeric OIDs
always work.

The community comes from -c, --community-file or NETKIT_SNMP_COMMUNITY;
a v3 user from --user with --auth and --priv and the passphrases in
NETKIT_SNMP_AUTH_PASS and NETKIT_SNMP_PRIV_PASS, or from --users-file
(lines as net-snmp's createUser). Secrets are never printed.`,
		GroupID: groupApplication,
	}
	f := cmd.PersistentFlags()
	f.StringVar(&o.version, "snmp-version", "2c", "SNMP `VERSION`: 1, 2c or 3")
	f.StringVarP(&o.community, "community", "c", "", "the community (v1, v2c); default public")
	f.StringVar(&o.communityFile, "community-file", "", "read the community from this `FILE`")
	f.StringVarP(&o.user, "user", "u", "", "the v3 user `NAME`")
	f.StringVarP(&o.auth, "auth", "a", "", "v3 authentication: MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512")
	f.StringVarP(&o.priv, "priv", "x", "", "v3 privacy: DES, AES, AES-192 or AES-256")
	f.StringVar(&o.usersFile, "users-file", "", "v3 users, one a line: NAME [AUTH PASS [PRIV PASS]]")
	f.StringVar(&o.engineID, "engine-id", "", "the engine ID in `HEX` that v3 traps come from (random if none)")
	f.DurationVar(&o.wait, "wait", time.Second, "how long one request waits for its answer")
	f.IntVar(&o.retries, "retries", 2, "how many times a request is sent again")
	f.BoolVarP(&o.numeric, "numeric", "n", false, "print OIDs as numbers")
	cmd.AddCommand(newSNMPGetCmd(a, o, "get"), newSNMPGetCmd(a, o, "getnext"), newSNMPWalkCmd(a, o), newSNMPTableCmd(a, o),
		newSNMPSetCmd(a, o), newSNMPTrapCmd(a, o), newSNMPTrapsCmd(a, o), newSNMPServeCmd(a, o))
	return cmd
}

// config maps the flags, the files and the environment to a snmp.Config.
func (o *snmpOptions) config(a *app) (snmp.Config, error) {
	v, err := snmp.ParseVersion(o.version)
	if err != nil {
		return snmp.Config{}, usageError("invalid --snmp-version: %v", err)
	}
	cfg := snmp.Config{Version: v, Community: o.community, Timeout: o.wait, Retries: o.retries}
	if cfg.Community == "" {
		cfg.Community = a.io.getenv("NETKIT_SNMP_COMMUNITY")
	}
	if o.communityFile != "" {
		b, err := os.ReadFile(o.communityFile)
		if err != nil {
			return cfg, inputError(fmt.Errorf("--community-file: %w", err))
		}
		cfg.Community = strings.TrimSpace(string(b))
	}
	if v != snmp.V3 {
		return cfg, nil
	}
	users, err := o.users(a)
	if err != nil {
		return cfg, err
	}
	if len(users) == 0 {
		return cfg, usageError("SNMPv3 needs --user NAME (or --users-file)")
	}
	cfg.User = &users[0]
	return cfg, nil
}

// users returns the v3 users of --user or --users-file.
func (o *snmpOptions) users(a *app) ([]snmp.User, error) {
	var users []snmp.User
	if o.usersFile != "" {
		f, err := os.Open(o.usersFile)
		if err != nil {
			return nil, inputError(fmt.Errorf("--users-file: %w", err))
		}
		defer f.Close()
		if users, err = snmp.ReadUsers(f); err != nil {
			return nil, inputError(err)
		}
	}
	if o.user != "" {
		u := snmp.User{Name: o.user, Auth: o.auth, Priv: o.priv,
			AuthPass: a.io.getenv("NETKIT_SNMP_AUTH_PASS"), PrivPass: a.io.getenv("NETKIT_SNMP_PRIV_PASS"), EngineID: o.engineID}
		users = append([]snmp.User{u}, users...)
	}
	return users, nil
}

// dial checks the flags and makes a client of the agent.
func (o *snmpOptions) dial(ctx context.Context, a *app, agent string, port uint16) (*snmp.Client, error) {
	cfg, err := o.config(a)
	if err != nil {
		return nil, err
	}
	cfg.Port = port
	c, err := snmp.Dial(ctx, agent, cfg)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func resolveOIDs(names []string) ([]snmp.OID, error) {
	oids := make([]snmp.OID, len(names))
	for i, n := range names {
		var err error
		if oids[i], err = snmp.Resolve(n); err != nil {
			return nil, err
		}
	}
	return oids, nil
}

// varsView prints bindings one a line, as net-snmp does.
type varsView struct {
	Agent   string          `json:"agent"`
	Vars    []snmp.Var      `json:"vars"`
	Walk    *snmp.WalkStats `json:"walk,omitempty"`
	numeric bool
}

func (v varsView) writeHuman(w io.Writer, _ textui.Style) error {
	for _, x := range v.Vars {
		line := x.String()
		if v.numeric {
			line = x.OID.String() + line[len(snmp.Name(x.OID)):]
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}

func newSNMPGetCmd(a *app, o *snmpOptions, op string) *cobra.Command {
	short, example := "Read values: a GetRequest", "  netkit snmp get 127.0.0.1 sysName.0 sysUpTime.0\n  netkit snmp get -c s3cret router1:1161 1.3.6.1.2.1.1.5.0"
	if op == "getnext" {
		short, example = "Read the value after each OID: a GetNextRequest", "  netkit snmp getnext 127.0.0.1 ifDescr"
	}
	return &cobra.Command{
		Use:     op + " AGENT OID...",
		Short:   short,
		Example: example,
		Args:    minArgs(2, "an AGENT and at least one OID"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			oids, err := resolveOIDs(args[1:])
			if err != nil {
				return err
			}
			c, err := o.dial(ctx, a, args[0], 0)
			if err != nil {
				return err
			}
			defer c.Close()
			get := c.Get
			if op == "getnext" {
				get = c.GetNext
			}
			vars, err := get(ctx, oids...)
			if err != nil {
				return err
			}
			return a.render(varsView{Agent: c.Agent(), Vars: vars, numeric: o.numeric})
		}),
	}
}

func newSNMPWalkCmd(a *app, o *snmpOptions) *cobra.Command {
	var wo snmp.WalkOptions
	cmd := &cobra.Command{
		Use:   "walk AGENT [OID]",
		Short: "Every value below an OID (mib-2 if none), with GETBULK that sizes itself",
		Long: `Walk the subtree below OID (mib-2, 1.3.6.1.2.1, if none). v2c and v3 walk
with GETBULK and choose max-repetitions themselves: from 10 it doubles
while the agent's answers come back full and halves when the agent says
tooBig or an answer is lost. --max-repetitions fixes it; --getnext walks
one value a request, as snmpwalk does (and v1 must). An agent that
answers with an OID that does not increase stops the walk with an error.

A GETBULK walk keeps --parallel requests in flight, each walking a part of
the tree (found first by probing its branches, a request a level): on a
path with a long round trip that many times faster. --parallel 1 asks one
thing at a time, for an agent that cannot take more.`,
		Example: `  netkit snmp walk 127.0.0.1 system
  netkit snmp walk 127.0.0.1 ifTable --json
  netkit snmp walk --snmp-version 3 -u ops -a SHA-256 -x AES router1 ifXTable`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usageError("walk takes an AGENT and at most one OID")
			}
			return nil
		},
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			root := "mib-2"
			if len(args) == 2 {
				root = args[1]
			}
			oid, err := snmp.Resolve(root)
			if err != nil {
				return err
			}
			if wo.MaxRepetitions < 0 {
				return usageError("invalid --max-repetitions %d: give 1 or more, or 0 to adapt", wo.MaxRepetitions)
			}
			c, err := o.dial(ctx, a, args[0], 0)
			if err != nil {
				return err
			}
			defer c.Close()
			if a.json {
				vars, st, err := c.WalkAll(ctx, oid, wo)
				if err != nil {
					return err
				}
				return a.render(varsView{Agent: c.Agent(), Vars: vars, Walk: &st})
			}
			out := bufio.NewWriterSize(a.io.Out, 64<<10)
			_, err = c.Walk(ctx, oid, wo, func(v snmp.Var) error {
				return varsView{Vars: []snmp.Var{v}, numeric: o.numeric}.writeHuman(out, a.outStyle())
			})
			if ferr := out.Flush(); err == nil {
				err = ferr
			}
			return err
		}),
	}
	cmd.Flags().IntVar(&wo.MaxRepetitions, "max-repetitions", 0, "fix GETBULK's max-repetitions (0 adapts)")
	cmd.Flags().BoolVar(&wo.GetNext, "getnext", false, "walk with GETNEXT, one value a request")
	cmd.Flags().IntVar(&wo.Parallel, "parallel", 4, "walk parts of the tree at once, this many requests in flight (1: one at a time)")
	return cmd
}

func newSNMPSetCmd(a *app, o *snmpOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "set AGENT OID TYPE VALUE [OID TYPE VALUE...]",
		Short: "Write values: a SetRequest, with types as snmpset takes them",
		Long: `Write values. TYPE is as net-snmp's snmpset takes it: i INTEGER, u Gauge32,
c Counter32, C Counter64, t TimeTicks, a IpAddress, o OID, s STRING,
x hex STRING, n NULL. The agent's error (notWritable, wrongType, noAccess)
is reported with the OID it names.`,
		Example: `  netkit snmp set -c private 127.0.0.1 sysContact.0 s ops@example.net`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 4 || (len(args)-1)%3 != 0 {
				return usageError("set takes an AGENT and then OID TYPE VALUE, one or more times")
			}
			return nil
		},
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			vars, err := snmp.ParseBindings(args[1:])
			if err != nil {
				return err
			}
			c, err := o.dial(ctx, a, args[0], 0)
			if err != nil {
				return err
			}
			defer c.Close()
			got, err := c.Set(ctx, vars...)
			if err != nil {
				return err
			}
			return a.render(varsView{Agent: c.Agent(), Vars: got, numeric: o.numeric})
		}),
	}
}
