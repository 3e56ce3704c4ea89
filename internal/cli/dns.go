package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/netkit-dev/netkit/dnsclient"
	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/spf13/cobra"
)

func newDNSCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "dns",
		Short:   "Resolve names: the system resolver, and a dig-like client",
		GroupID: groupApplication,
		Args:    noArgs,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return usageError("netkit dns needs a subcommand: resolve, lookup or serve")
		}),
	}
	cmd.AddCommand(newDNSResolveCmd(a), newDNSLookupCmd(a), newDNSServeCmd(a))
	return cmd
}

type resolveOptions struct {
	names      []string
	ipv4, ipv6 bool
}

func newDNSResolveCmd(a *app) *cobra.Command {
	var o resolveOptions
	cmd := &cobra.Command{
		Use:   "resolve NAME...",
		Short: "Resolve names with the system resolver (as getaddrinfo)",
		Long: `Resolve each name the way programs on this machine do (gethostbyname and
getaddrinfo): /etc/hosts first, then the DNS servers of /etc/resolv.conf, in
the order /etc/nsswitch.conf gives. Prints every IPv4 and IPv6 address and
the canonical name. Names under .invalid never resolve (RFC 6761) and are
not sent to any server.

Exits 1 if any name does not resolve; the others are still printed.`,
		Example: `  netkit dns resolve localhost
  netkit dns resolve -4 localhost example.com
  netkit dns resolve --json localhost`,
		Args: minArgs(1, "at least one NAME"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			o.names = args
			return runResolve(ctx, a, o)
		}),
	}
	cmd.Flags().BoolVarP(&o.ipv4, "ipv4", "4", false, "IPv4 addresses only")
	cmd.Flags().BoolVarP(&o.ipv6, "ipv6", "6", false, "IPv6 addresses only")
	return cmd
}

type resolveResult struct {
	Hosts []hostView `json:"hosts"`
}

type hostView struct {
	Name      string   `json:"name"`
	Canonical string   `json:"canonical,omitempty"`
	Addresses []string `json:"addresses"`
	Error     string   `json:"error,omitempty"`
}

func runResolve(ctx context.Context, a *app, o resolveOptions) error {
	fam := dnsclient.AnyFamily
	switch {
	case o.ipv4 && o.ipv6:
		return usageError("-4 and -6 exclude each other; give neither for both families")
	case o.ipv4:
		fam = dnsclient.IPv4
	case o.ipv6:
		fam = dnsclient.IPv6
	}
	var sys dnsclient.System
	res := resolveResult{Hosts: []hostView{}}
	var failures []error
	for _, name := range o.names {
		h, err := sys.Lookup(ctx, name, fam)
		if err == nil && len(h.Addrs) == 0 {
			err = fmt.Errorf("resolve %s: no %s addresses", name, fam)
		}
		if err != nil {
			err = &resolveError{name: name, err: err}
			failures = append(failures, err)
			res.Hosts = append(res.Hosts, hostView{Name: name, Addresses: []string{}, Error: err.Error()})
			continue
		}
		v := hostView{Name: name, Canonical: h.Canonical, Addresses: []string{}}
		for _, ad := range h.Addrs {
			v.Addresses = append(v.Addresses, ad.String())
		}
		res.Hosts = append(res.Hosts, v)
	}
	if err := a.render(res); err != nil {
		return err
	}
	if len(failures) == 0 {
		return nil
	}
	for _, err := range failures {
		fmt.Fprintln(a.io.Err, message(err))
	}
	return errSilentFailure
}

// resolveError names the name that failed once, where net.DNSError would
// repeat it.
type resolveError struct {
	name string
	err  error
}

func (e *resolveError) Error() string {
	if dnsErr, ok := errors.AsType[*net.DNSError](e.err); ok {
		return "resolve " + e.name + ": " + dnsErr.Err
	}
	if fe, ok := errors.AsType[*dnsclient.FamilyError](e.err); ok {
		return fmt.Sprintf("resolve %s: %s is not an %s address", e.name, fe.Addr, fe.Want)
	}
	return "resolve " + e.name + ": " + e.err.Error()
}

func (e *resolveError) Unwrap() error { return e.err }

func (r resolveResult) writeHuman(w io.Writer, st textui.Style) error {
	t := textui.NewTable("NAME", "ADDRESS", "CANONICAL")
	for _, h := range r.Hosts {
		for _, ad := range h.Addresses {
			t.Add(h.Name, ad, h.Canonical)
		}
	}
	if t.Len() == 0 {
		return nil
	}
	return t.Write(w, st)
}
