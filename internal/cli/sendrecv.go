package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"

	"github.com/netkit-dev/netkit/endpoint"
	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/netkit-dev/netkit/rudp"
	"github.com/netkit-dev/netkit/transfer"
	"github.com/spf13/cobra"
)

// udpEndpoint reads a udp:// endpoint, or HOST:PORT as one.
func udpEndpoint(s string) (endpoint.Endpoint, error) {
	if !strings.Contains(s, "://") {
		s = "udp://" + s
	}
	e, err := parseEndpoint(s)
	if err != nil {
		return e, err
	}
	if !e.IsPacket() {
		return e, usageError("rudp runs over UDP: give udp://HOST:PORT (or HOST:PORT), not %s", e)
	}
	return e, nil
}

func traceTo(w io.Writer, on bool) func(rudp.TraceEvent) {
	if !on {
		return nil
	}
	return func(ev rudp.TraceEvent) { fmt.Fprintln(w, ev) }
}

func newSendCmd(a *app) *cobra.Command {
	var as string
	var trace, fec bool
	cmd := &cobra.Command{
		Use:   "send FILE ENDPOINT",
		Short: "Send a file reliably over UDP (rudp) to netkit receive",
		Long: `Send FILE to the netkit receive at ENDPOINT (udp://HOST:PORT, or HOST:PORT)
over rudp, netkit's reliable transport over UDP: sequence numbers,
selective acknowledgements, retransmission and congestion control in user
space, where TCP has them in the kernel. The name, size and SHA-256 go
first; the receiver checks the digest before the file takes its name, and
an interrupted transfer resumes where it stopped.

--trace tells, on stderr, every packet sent and acknowledged, every gap,
loss and resend: put netkit impair in the path to watch a loss repaired.
rudp is not encrypted.`,
		Example: `  netkit send notes.txt 127.0.0.1:9000
  netkit send big.iso udp://[::1]:9000 --json
  netkit send notes.txt 127.0.0.1:9001 --trace   # through netkit impair --drop 13`,
		GroupID: groupTransport,
		Args:    exactArgs(2, "a FILE and the receiver's ENDPOINT"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			e, err := udpEndpoint(args[1])
			if err != nil {
				return err
			}
			if as != "" {
				if err := transfer.CheckName(as); err != nil {
					return usageError("invalid --as: %v", err)
				}
			}
			o := transfer.SendOptions{Name: as, Config: rudp.Config{Trace: traceTo(a.io.Err, trace), FEC: fec}}
			var bar *textui.Progress
			var shown int64
			o.Progress = func(done, total int64) {
				if bar == nil {
					bar = a.newProgress(args[0], total)
				}
				bar.Add(done - shown)
				shown = done
			}
			res, err := transfer.Send(ctx, e.Address(), args[0], o)
			if bar != nil {
				bar.Finish()
			}
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
				return inputError(err)
			}
			if err != nil {
				return fmt.Errorf("send %s to %s: %w", args[0], e, err)
			}
			return a.render(transferView(*res))
		}),
	}
	cmd.Flags().StringVar(&as, "as", "", "offer the file under this `NAME` (default: FILE's own)")
	cmd.Flags().BoolVar(&trace, "trace", false, "tell every packet, acknowledgement, gap and resend on stderr")
	cmd.Flags().BoolVar(&fec, "fec", false, "send Reed-Solomon parity after each group of packets, as much as the measured loss calls for, so the receiver rebuilds lost ones without a round trip")
	return cmd
}

func newReceiveCmd(a *app) *cobra.Command {
	var dir string
	var keep, force, trace bool
	cmd := &cobra.Command{
		Use:   "receive ENDPOINT",
		Short: "Receive files sent with netkit send (rudp over UDP)",
		Long: `Listen on ENDPOINT (udp://HOST:PORT, or HOST:PORT; port 0 picks one) for
netkit send, and take the file into --dir. A file is written under a
temporary name and takes its own only once its SHA-256 matches the
sender's; a broken transfer leaves the partial file for a resume, and one
whose digest differs is kept as NAME.netkit-corrupt. Names that would
leave the directory (.., /, a symbolic link) are refused; so is a file
that exists, unless --force.

One transfer, then exit; -k takes any number, at once.`,
		Example: `  netkit receive 127.0.0.1:9000
  netkit receive udp://[::]:9000 -k --dir incoming --json`,
		GroupID: groupTransport,
		Args:    exactArgs(1, "the ENDPOINT to listen on"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			e, err := udpEndpoint(args[0])
			if err != nil {
				return err
			}
			l, err := rudp.Listen(e.Network(), e.Address(), rudp.Config{Trace: traceTo(a.io.Err, trace)})
			if err != nil {
				return fmt.Errorf("listen %s: %w", e, err)
			}
			defer l.Close()
			out := &lockedWriter{w: a.io.Out}
			announce(a, out, l.Addr())
			r := &transfer.Receiver{Dir: dir, Force: force,
				Done: func(res *transfer.Result, err error) {
					if err != nil {
						fmt.Fprintf(a.io.Err, "netkit: receiving %q from %s: %v\n", res.Name, res.Peer, err)
						return
					}
					if a.json {
						writeJSONLine(out, res)
					} else {
						transferView(*res).writeHuman(out, a.outStyle())
					}
				}}
			err = r.Serve(ctx, l, keep)
			if errors.Is(err, fs.ErrNotExist) {
				return inputError(fmt.Errorf("--dir: %w", err))
			}
			if err != nil {
				return errSilentFailure
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&dir, "dir", ".", "put the files in this `DIR` (made if missing)")
	cmd.Flags().BoolVarP(&keep, "keep-open", "k", false, "take any number of transfers, concurrently")
	cmd.Flags().BoolVar(&force, "force", false, "replace files that exist")
	cmd.Flags().BoolVar(&trace, "trace", false, "tell every packet, acknowledgement and gap on stderr")
	return cmd
}

func announce(a *app, w io.Writer, addr net.Addr) {
	if a.json {
		writeJSONLine(w, struct {
			Event    string `json:"event"`
			Time     string `json:"time"`
			Endpoint string `json:"endpoint"`
		}{"listening", nowStamp(), "udp://" + addr.String()})
		return
	}
	fmt.Fprintf(w, "receiving on udp://%s\n", addr)
}

type transferView transfer.Result

func (r transferView) writeHuman(w io.Writer, st textui.Style) error {
	what := "sent"
	if r.Path != "" {
		what = "received"
	}
	fmt.Fprintf(w, "%s %s: %s in %.2f s (%.1f Mbit/s), SHA-256 %s verified\n", what, r.Name, textui.FormatBytes(r.Bytes), r.Seconds, r.GoodputMbps, r.SHA256[:16])
	if r.Resumed > 0 {
		fmt.Fprintf(w, "  resumed after %s already there\n", textui.FormatBytes(r.Resumed))
	}
	_, err := fmt.Fprintf(w, "  %d packets, %d sent again, %d timeouts, %d corrupted dropped, %d dropped by this host's kernel\n",
		r.PacketsSent, r.Retransmitted, r.Timeouts, r.Corrupted, r.KernelDrops)
	if r.FECSent > 0 || r.FECRecovered > 0 {
		_, err = fmt.Fprintf(w, "  %d parity packets sent, %d packets rebuilt from parity\n", r.FECSent, r.FECRecovered)
	}
	return err
}
