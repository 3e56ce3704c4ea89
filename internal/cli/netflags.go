package cli

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/netkit-dev/netkit/acl"
	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/server"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// parseEndpoint parses an endpoint argument; a bad one is bad input.
func parseEndpoint(s string) (endpoint.Endpoint, error) {
	e, err := endpoint.Parse(s)
	if err != nil {
		return endpoint.Endpoint{}, inputError(err)
	}
	return e, nil
}

// accessFlags are --allow and --deny, as ncat has them.
type accessFlags struct {
	allow, deny []string
}

func (f *accessFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.allow, "allow", nil, "accept only clients in this address or CIDR prefix (repeatable)")
	cmd.Flags().StringArrayVar(&f.deny, "deny", nil, "refuse clients in this address or CIDR prefix (repeatable; wins over --allow)")
}

// list returns the access list of the flags.
func (f *accessFlags) list() (acl.List, error) {
	l, err := acl.Parse(f.allow, f.deny)
	if pe, ok := errors.AsType[*acl.ParseError](err); ok {
		return acl.List{}, usageError("invalid --%s %q: %s", pe.List, pe.Input, pe.Rule)
	}
	return l.Named("--allow", "--deny"), nil
}

// lockedWriter serializes writes from many goroutines to one stream.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// connEvent is one line of --json output for servers: listening,
// accepted, rejected, closed.
type connEvent struct {
	Event      string  `json:"event"`
	Time       string  `json:"time"`
	Service    string  `json:"service,omitempty"`
	Endpoint   string  `json:"endpoint,omitempty"`
	Target     string  `json:"target,omitempty"`
	ID         uint64  `json:"id,omitempty"`
	Remote     string  `json:"remote,omitempty"`
	Reason     string  `json:"reason,omitempty"`
	BytesIn    *uint64 `json:"bytes_in,omitempty"`
	BytesOut   *uint64 `json:"bytes_out,omitempty"`
	DurationMS float64 `json:"duration_ms,omitempty"`
	Error      string  `json:"error,omitempty"`
}

func (e connEvent) writeHuman(w io.Writer, st textui.Style) error {
	var b strings.Builder
	b.WriteString(e.Event)
	for _, kv := range [][2]string{{"", e.Endpoint}, {"->", e.Target}, {"service", e.Service}, {"id", idStr(e.ID)}, {"remote", e.Remote}, {"reason", e.Reason}, {"error", e.Error}} {
		if kv[1] == "" {
			continue
		}
		if kv[0] == "" {
			b.WriteString(" " + kv[1])
		} else if kv[0] == "->" {
			b.WriteString(" -> " + kv[1])
		} else {
			b.WriteString(" " + kv[0] + "=" + kv[1])
		}
	}
	if e.BytesIn != nil {
		fmt.Fprintf(&b, " in=%d out=%d duration=%.1fms", *e.BytesIn, *e.BytesOut, e.DurationMS)
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

func idStr(id uint64) string {
	if id == 0 {
		return ""
	}
	return fmt.Sprint(id)
}

func nowStamp() string { return time.Now().UTC().Format(time.RFC3339Nano) }

// serverEvent turns a server.Event into a connEvent.
func serverEvent(e server.Event) connEvent {
	ev := connEvent{Event: string(e.Kind), Time: nowStamp(), ID: e.ID, Reason: e.Reason}
	if e.Remote.IsValid() {
		ev.Remote = e.Remote.String()
	}
	if e.Kind == server.EventClosed {
		in, out := e.BytesIn, e.BytesOut
		ev.BytesIn, ev.BytesOut = &in, &out
		ev.DurationMS = float64(e.Duration.Microseconds()) / 1000
		if e.Err != nil {
			ev.Error = e.Err.Error()
		}
	}
	return ev
}

// secondsValue is a duration flag that also takes a bare number of
// seconds, as netcat's -w and -i do: "-w 2" is two seconds, "-w 500ms"
// half of one.
type secondsValue struct{ p *time.Duration }

func (v secondsValue) String() string {
	if v.p == nil {
		return "0s"
	}
	return v.p.String()
}

func (v secondsValue) Set(s string) error {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 || f > float64(math.MaxInt64/int64(time.Second)) {
			return fmt.Errorf("%s seconds is out of range", s)
		}
		*v.p = time.Duration(f * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want seconds (2, 0.5) or a duration (500ms, 1m30s)")
	}
	*v.p = d
	return nil
}

func (v secondsValue) Type() string { return "seconds" }

// secondsVarP defines a flag of seconds or a duration.
func secondsVarP(f *pflag.FlagSet, p *time.Duration, name, short string, def time.Duration, usage string) {
	*p = def
	f.VarP(secondsValue{p}, name, short, usage)
}
