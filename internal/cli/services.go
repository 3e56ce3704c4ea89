package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/services"
	"github.com/spf13/cobra"
)

func newServicesCmd(a *app) *cobra.Command {
	var proto string
	var top int
	cmd := &cobra.Command{
		Use:   "services [NAME|PORT...]",
		Short: "Port numbers and service names, both ways (as /etc/services)",
		Long: `Look up services by name or port number, for TCP and UDP. netkit's own
table (the IANA registry's well-known ports and the common registered ones,
ranked by how common they are) is overlaid by the system's /etc/services.
With no argument, lists every service; --top N lists the N most common.

Exits 1 if a name or port is unknown.`,
		Example: `  netkit services http
  netkit services 443
  netkit services --proto udp 53
  netkit services --top 10`,
		GroupID: groupTransport,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			switch proto {
			case "", "tcp", "udp":
			default:
				return usageError("invalid --proto %q: use tcp or udp", proto)
			}
			if top < 0 {
				return usageError("invalid --top %d: it may not be negative", top)
			}
			return runServices(a, args, services.Proto(proto), top)
		}),
	}
	cmd.Flags().StringVarP(&proto, "proto", "p", "", "only this protocol: tcp or udp")
	cmd.Flags().IntVar(&top, "top", 0, "list the N most common ports (of --proto, default tcp)")
	return cmd
}

type servicesResult struct {
	Services []services.Service `json:"services"`
	Unknown  []string           `json:"unknown,omitempty"`
}

func (r servicesResult) writeHuman(w io.Writer, st textui.Style) error {
	if len(r.Services) == 0 {
		return nil
	}
	t := textui.NewTable("PORT", "PROTO", "NAME", "RANK", "DESCRIPTION").AlignRight(0, 3)
	for _, s := range r.Services {
		rank := "-"
		if s.Rank > 0 {
			rank = strconv.Itoa(s.Rank)
		}
		t.Add(strconv.Itoa(int(s.Port)), string(s.Proto), s.Name, rank, s.Description)
	}
	return t.Write(w, st)
}

func runServices(a *app, args []string, proto services.Proto, top int) error {
	tb := services.Default()
	var res servicesResult
	switch {
	case top > 0:
		if len(args) > 0 {
			return usageError("--top lists ports; it takes no NAME or PORT")
		}
		if proto == "" {
			proto = services.TCP
		}
		for _, p := range tb.Top(top, proto) {
			s, _ := tb.ByPort(p, proto)
			res.Services = append(res.Services, s)
		}
	case len(args) == 0:
		res.Services = tb.Of(proto)
	default:
		var err error
		if res.Services, res.Unknown, err = tb.Find(args, proto); err != nil {
			return inputError(err)
		}
	}
	if err := a.render(res); err != nil {
		return err
	}
	if len(res.Unknown) > 0 {
		if !a.json {
			for _, q := range res.Unknown {
				fmt.Fprintf(a.io.Err, "netkit: no service %q\n", q)
			}
		}
		return errSilentFailure
	}
	return nil
}
