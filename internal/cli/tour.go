package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/tour"
	"github.com/spf13/cobra"
)

type tourOptions struct {
	list  bool
	steps []string
	pause bool
}

func newTourCmd(a *app) *cobra.Command {
	var o tourOptions
	cmd := &cobra.Command{
		Use:   "tour",
		Short: "Every layer of the TCP/IP stack, live on loopback, narrated",
		Long: `Walk through the TCP/IP stack as the network programming tutorials teach
it, from interfaces and addresses up to DNS and HTTP. Each step runs
netkit's own code on this host's loopback (no other network is touched),
says what it shows, and prints the commands that do the same thing alone.

Servers the tour starts use ephemeral ports, except the thank-you server,
which takes the tutorials' port 12345 when it is free. Everything a step
starts is stopped before the next one begins, Ctrl-C included. A failed
step says what failed; the others still run, and netkit exits 1.

--json prints one JSON document per step: name, layer, idea, commands,
result, duration and ok.`,
		Example: `  netkit tour
  netkit tour --list
  netkit tour --step dns
  netkit tour --step 3 --step 4
  netkit tour --json`,
		GroupID: groupOther,
		Args:    noArgs,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return runTour(ctx, a, o)
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&o.list, "list", false, "list the steps and exit")
	f.StringArrayVar(&o.steps, "step", nil, "run only this step, by number or name (repeatable)")
	f.BoolVar(&o.pause, "pause", false, "wait for Enter between steps (on a terminal)")
	return cmd
}

type tourStep struct {
	N     int    `json:"n"`
	Name  string `json:"name"`
	Layer string `json:"layer"`
	Idea  string `json:"idea"`
}

type tourList []tourStep

func (l tourList) writeHuman(w io.Writer, st textui.Style) error {
	t := textui.NewTable("", "STEP", "LAYER", "IDEA").AlignRight(0)
	for _, s := range l {
		t.Add(fmt.Sprint(s.N), s.Name, s.Layer, s.Idea)
	}
	return t.Write(w, st)
}

func runTour(ctx context.Context, a *app, o tourOptions) error {
	all := tour.Steps()
	if o.list {
		var l tourList
		for i, s := range all {
			l = append(l, tourStep{i + 1, s.Name(), s.Layer(), s.Idea()})
		}
		return a.render(l)
	}
	steps := all
	if len(o.steps) > 0 {
		steps = nil
		for _, name := range o.steps {
			s, err := tour.Find(name)
			if ne, ok := errors.AsType[*tour.NoStepError](err); ok {
				return usageError("invalid --step %s: %s", strconv.Quote(ne.Name), ne.Rule)
			} else if err != nil {
				return err
			}
			steps = append(steps, s)
		}
	}
	st := a.outStyle()
	env := &tour.Env{Style: st}
	in := bufio.NewReader(a.io.In)
	failed := 0
	for i, s := range steps {
		if ctx.Err() != nil {
			break
		}
		n := slices.IndexFunc(all, func(x tour.Step) bool { return x.Name() == s.Name() }) + 1
		r := tour.RunStep(ctx, s, env)
		if !r.OK {
			failed++
		}
		if a.json {
			writeJSONLine(a.io.Out, r)
			continue
		}
		writeTourStep(a.io.Out, st, n, len(all), s, r)
		if o.pause && a.io.InTTY && i < len(steps)-1 {
			fmt.Fprint(a.io.Err, st.Dim("(Enter for the next step) "))
			in.ReadString('\n')
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if failed > 0 {
		fmt.Fprintf(a.io.Err, "netkit: %d of %d tour steps failed (see above)\n", failed, len(steps))
		return errSilentFailure
	}
	return nil
}

func writeTourStep(w io.Writer, st textui.Style, n, total int, s tour.Step, r tour.Result) {
	fmt.Fprintf(w, "%s\n%s\n\n", st.Bold(fmt.Sprintf("== %d/%d %s (%s layer)", n, total, r.Name, r.Layer)), st.Dim(r.Idea))
	io.WriteString(w, r.Output)
	if r.OK {
		fmt.Fprintf(w, "%s\n", st.Green(fmt.Sprintf("ok (%s)", r.Duration.Round(time.Millisecond))))
	} else {
		fmt.Fprintf(w, "%s\n", st.Red("failed: "+r.Error))
	}
	files := s.Files()
	if len(r.Commands) > 0 {
		fmt.Fprintln(w, "\nTry it yourself:")
		for _, name := range slices.Sorted(maps.Keys(files)) {
			fmt.Fprintf(w, "  # save as %s:\n%s", name, indentLines(files[name], "  #   "))
		}
		for _, c := range r.Commands {
			fmt.Fprintf(w, "  %s\n", st.Cyan(c))
		}
	}
	fmt.Fprintln(w)
}

// indentLines prefixes each line of s, showing CRs as \r.
func indentLines(s, prefix string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(prefix + strings.ReplaceAll(strings.TrimSuffix(line, "\n"), "\r", `\r`) + "\n")
	}
	return b.String()
}
