package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/spf13/cobra"
)

// run runs netkit in-process against buffers.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, &IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(string) string { return "" }})
	return out.String(), errb.String(), code
}

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		args    []string
		code    int
		wantErr string
	}{
		{args: []string{"version"}, code: 0},
		{args: []string{"--bogus"}, code: 2, wantErr: "unknown flag: --bogus"},
		{args: []string{"nope"}, code: 2, wantErr: `unknown command "nope"`},
		{args: []string{"ifaces", "no-such-if0"}, code: 1, wantErr: `no interface named "no-such-if0"`},
		{args: []string{"dns", "resolve", "x.invalid"}, code: 1, wantErr: "resolve x.invalid: no such host"},
		{args: []string{"--timeout=-1s", "hostname"}, code: 2, wantErr: "may not be negative"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, stderr, code := run(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr %q lacks %q", stderr, tt.wantErr)
			}
			if tt.code != 0 && !strings.HasPrefix(stderr, "netkit: ") {
				t.Errorf("stderr %q does not start with \"netkit: \"", stderr)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	_, perr := endpoint.Parse("tcp://h:99999")
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("boom"), 1},
		{usageError("bad"), 2},
		{inputError(perr), 2},
		{fmt.Errorf("wrapped: %w", perr), 2},
		{errSilentFailure, 1},
		{context.Canceled, 130},
	}
	for _, tt := range tests {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
	if inputError(nil) != nil {
		t.Error("inputError(nil) != nil")
	}
}

func TestMessageHints(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		err  error
		want string
	}{
		{refused, "(nothing listens there, or a firewall rejects it)"},
		{&net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}, "does not exist"},
		{context.DeadlineExceeded, "timed out"},
		{os.NewSyscallError("bind", syscall.EADDRINUSE), "another program listens there"},
		{os.NewSyscallError("socket", syscall.EMFILE), "ulimit -n"},
	}
	for _, tt := range tests {
		if got := message(tt.err); !strings.Contains(got, tt.want) || !strings.HasPrefix(got, "netkit: ") {
			t.Errorf("message(%v) = %q, want it to contain %q", tt.err, got, tt.want)
		}
	}
	if got := message(errors.New("plain")); got != "netkit: plain" {
		t.Errorf("message(plain) = %q", got)
	}
}

func TestReferenceUpToDate(t *testing.T) {
	var b bytes.Buffer
	if err := Reference(&b); err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile("../../docs/commands.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, b.Bytes()) {
		t.Error("docs/commands.md is out of date: run make docs")
	}
	for _, want := range []string{"## netkit ifaces", "## netkit dns resolve", "## netkit completion bash", "## netkit version"} {
		if !bytes.Contains(have, []byte(want)) {
			t.Errorf("reference lacks %q", want)
		}
	}
}

type event struct {
	N int `json:"n"`
}

func (e event) writeHuman(w io.Writer, st textui.Style) error {
	_, err := fmt.Fprintf(w, "event %d\n", e.N)
	return err
}

func TestEmitAndRender(t *testing.T) {
	var b bytes.Buffer
	a := &app{io: &IO{Out: &b}}
	a.emit(event{1})
	a.render(event{2})
	a.json = true
	a.emit(event{3})
	a.emit(event{4})
	a.render(event{5})
	want := "event 1\nevent 2\n{\"n\":3}\n{\"n\":4}\n{\n  \"n\": 5\n}\n"
	if b.String() != want {
		t.Errorf("output %q, want %q", b.String(), want)
	}
}

func TestLoggerLevels(t *testing.T) {
	for _, tt := range []struct {
		verbose            int
		info, debug, warns bool
	}{{0, false, false, true}, {1, true, false, true}, {2, true, true, true}} {
		var b bytes.Buffer
		a := &app{io: &IO{Err: &b}, verbose: tt.verbose}
		l := a.logger()
		l.Debug("d")
		l.Info("i")
		l.Warn("w")
		s := b.String()
		if strings.Contains(s, "msg=d") != tt.debug || strings.Contains(s, "msg=i") != tt.info || strings.Contains(s, "msg=w") != tt.warns {
			t.Errorf("-v x%d logged %q", tt.verbose, s)
		}
	}
}

func TestArgCheckers(t *testing.T) {
	cmd := &cobra.Command{Use: "x"}
	if err := exactArgs(2, "A and B")(cmd, []string{"a"}); exitCode(err) != 2 || !strings.Contains(err.Error(), "takes A and B; got 1 argument") {
		t.Errorf("exactArgs: %v", err)
	}
	if err := exactArgs(1, "A")(cmd, []string{"a"}); err != nil {
		t.Errorf("exactArgs: %v", err)
	}
	if err := minArgs(1, "a NAME")(cmd, nil); exitCode(err) != 2 {
		t.Errorf("minArgs: %v", err)
	}
	if err := noArgs(cmd, []string{"a", "b"}); exitCode(err) != 2 || !strings.Contains(err.Error(), `got "a b"`) {
		t.Errorf("noArgs: %v", err)
	}
}

func TestAppStyles(t *testing.T) {
	a := &app{io: &IO{ErrTTY: true, OutTTY: false, Getenv: func(string) string { return "" }}, color: "auto"}
	if !a.errStyle().On || a.outStyle().On {
		t.Errorf("errStyle %v outStyle %v, want colour on the terminal only", a.errStyle().On, a.outStyle().On)
	}
}

func TestEmptyLists(t *testing.T) {
	type inner struct {
		L []string `json:"l"`
	}
	type doc struct {
		A    []int    `json:"a"`
		B    []int    `json:"b,omitempty"`
		Raw  []byte   `json:"raw"`
		In   inner    `json:"in"`
		Ptr  *inner   `json:"ptr"`
		Many []inner  `json:"many"`
		Any  any      `json:"any"`
		Done []string `json:"-"`
	}
	d := doc{Ptr: &inner{}, Many: []inner{{}}, Any: inner{}}
	b, err := json.Marshal(emptyLists(d))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"a":[],"raw":null,"in":{"l":[]},"ptr":{"l":[]},"many":[{"l":[]}],"any":{"l":[]}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if d.A != nil || d.In.L != nil {
		t.Error("the caller's value was changed")
	}
}

// TestReferenceListsLentFlags: a subcommand's reference shows the flags
// its parent lends it (rfc info takes rfc's --mirror).
func TestReferenceListsLentFlags(t *testing.T) {
	var b strings.Builder
	if err := Reference(&b); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	i := strings.Index(doc, "## netkit rfc info")
	j := strings.Index(doc[i+1:], "\n## ")
	if i < 0 || j < 0 || !strings.Contains(doc[i:i+1+j], "Flags of netkit rfc:") || !strings.Contains(doc[i:i+1+j], "--mirror") {
		t.Errorf("netkit rfc info's reference lacks rfc's --mirror:\n%s", doc[i:i+1+j])
	}
}
