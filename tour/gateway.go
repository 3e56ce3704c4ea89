package tour

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/netkit-dev/netkit/gateway"
	"github.com/netkit-dev/netkit/inetd"
	"github.com/netkit-dev/netkit/server"
)

// gatewayStep: the tutorials' firewall and NAT. A gateway stands in front
// of a service: a rule decides each new flow (the first that matches),
// what no rule allows is turned away, and what is allowed is sent on to
// the private address, the replies translated back.
type gatewayStep struct{}

func (gatewayStep) Name() string  { return "gateway" }
func (gatewayStep) Layer() string { return "transport" }
func (gatewayStep) Idea() string {
	return "firewall and NAT: rules on protocol, source and port decide each new flow, the first match wins and the rest is denied; allowed flows are sent on to a private address and the replies translated back"
}

const tourGatewayFile = `default = "deny"
admin = "tour-gateway.sock"

[[forward]]
name = "echo"
proto = "tcp"
listen = "127.0.0.1:12345"
to = ["127.0.0.1:12346"]

[[rule]]
name = "not from the second loopback address"
action = "reject"
source = ["127.0.0.2"]

[[rule]]
name = "loopback"
action = "allow"
source = ["127.0.0.0/8"]
port = "12345"
`

func (gatewayStep) Commands() []string {
	return []string{
		"netkit serve echo tcp://127.0.0.1:12346 &",
		"netkit gateway check tour-gateway.toml",
		`netkit gateway explain tour-gateway.toml --flow "tcp 127.0.0.2:40000 -> 127.0.0.1:12345"`,
		"netkit gateway run tour-gateway.toml &",
		"echo hello | netkit connect tcp://127.0.0.1:12345",
		"echo hello | netkit connect -s 127.0.0.2 tcp://127.0.0.1:12345  # exits 1",
		"netkit gateway status --admin tour-gateway.sock",
	}
}
func (gatewayStep) Files() map[string]string {
	return map[string]string{"tour-gateway.toml": tourGatewayFile}
}

func (gatewayStep) Run(ctx context.Context, w io.Writer, e *Env) error {
	back, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer serveTCP(&server.Server{Handler: inetd.Echo{}}, back)()
	// The tour's gateway listens on a free port, so the rule names none.
	doc := strings.Replace(tourGatewayFile, "127.0.0.1:12345", "127.0.0.1:0", 1)
	doc = strings.Replace(doc, "127.0.0.1:12346", back.Addr().String(), 1)
	doc = strings.Replace(doc, "port = \"12345\"\n", "", 1)
	doc = strings.Replace(doc, "admin = \"tour-gateway.sock\"\n", "", 1)
	cfg, err := gateway.Parse("tour-gateway.toml", []byte(doc))
	if err != nil {
		return err
	}
	g, err := gateway.New(cfg, gateway.Options{})
	if err != nil {
		return err
	}
	gctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- g.Serve(gctx) }()
	defer func() { stop(); <-served }()
	front, _ := g.Addr("echo")
	say(w, "A gateway listens on %s and sends allowed flows on to the echo server at %s.", front, back.Addr())
	say(w, "Its rules, tried in order; what none allows is denied:")
	for i, r := range cfg.Rules {
		say(w, "  %d. %s (%s)", i+1, &r, r.Name)
	}

	for _, src := range []string{"127.0.0.1", "127.0.0.2"} {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
		c, err := d.DialContext(ctx, "tcp", front)
		if errors.Is(err, syscall.ECONNRESET) {
			// The reset came before connect returned (a busy host).
			say(w, "From %s: the connection was reset as it opened: %v.", src, err)
			continue
		}
		if err != nil {
			return err
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprint(c, "hello")
		buf := make([]byte, 5)
		_, err = io.ReadFull(c, buf)
		if err == nil {
			say(w, "From %s: sent \"hello\", the server behind the gateway echoed %q.", src, buf)
			for _, f := range g.Status().Flows {
				say(w, "  the flow table: in %s -> %s, out %s -> %s, %s, %d bytes in", f.Client, f.Listen, f.Local, f.Target, f.State, f.BytesIn)
			}
		} else {
			say(w, "From %s: the connection opened (the handshake is the kernel's) and was reset: %v.", src, err)
		}
		c.Close()
	}
	flow, err := gateway.ParseFlow("tcp 127.0.0.2:40000 -> " + front)
	if err != nil {
		return err
	}
	say(w, "Why the second was turned away, as netkit gateway explain tells it:")
	ex := g.Explain(flow)
	if err := ex.WriteText(w); err != nil {
		return err
	}
	if ex.Verdict.Action != gateway.Reject {
		return fmt.Errorf("the tour's rules let %s through", flow)
	}
	st := g.Status()
	say(w, "Counters: %d flow forwarded, %d rejected.", st.Counters.Opened, st.Counters.Rejected)
	return nil
}
