package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/netkit-dev/netkit/capture"
	"github.com/spf13/cobra"
)

func newDecodeCmd(a *app) *cobra.Command {
	var count int
	var verbose bool
	cmd := &cobra.Command{
		Use:   "decode FILE [FILTER...]",
		Short: "Read a pcap or pcapng file and show its packets, layer by layer",
		Long: `Reads a capture (pcap or pcapng, as tcpdump -w, dumpcap and tshark write
them; - for stdin) as a stream, in constant memory, and prints one line a
packet as tcpdump -nn does: time, addresses and ports, protocol, TCP flags,
sequence and acknowledgement numbers, window and length, UDP length, ICMP
type, DNS questions and answers, an HTTP request line. -V shows each
packet's layer cake instead: every layer's header with its offset, length
and fields, then the bytes as hex. --json prints one JSON document a packet
(NDJSON). Wrong IPv4, TCP and UDP checksums are marked. FILTER, in
tcpdump's language as netkit capture takes it, keeps the packets it
accepts (files of Ethernet frames).`,
		Example: `  netkit decode trace.pcap
  netkit decode -V -c 3 trace.pcapng
  netkit decode trace.pcap 'tcp[tcpflags] & tcp-syn != 0'  # the handshakes
  tcpdump -i lo -w - port 80 | netkit decode -`,
		GroupID: groupNetwork,
		Args:    minArgs(1, "a FILE"),
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			if count < 0 {
				return usageError("invalid -c %d: it may not be negative", count)
			}
			var in io.Reader = a.io.In
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return inputError(err)
				}
				defer f.Close()
				in = f
			}
			var flt *capture.Filter
			if len(args) > 1 {
				var err error
				if flt, err = capture.CompileFilter(strings.Join(args[1:], " ")); err != nil {
					return inputError(err)
				}
			}
			r, err := capture.NewReader(in)
			if err != nil {
				return inputError(fmt.Errorf("%s: %w", args[0], err))
			}
			w := bufio.NewWriter(a.io.Out)
			defer w.Flush()
			for n, read := 0, 0; count == 0 || n < count; n++ {
				read++
				if ctx.Err() != nil {
					return ctx.Err()
				}
				p, err := r.Next()
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					w.Flush()
					return fmt.Errorf("%s: packet %d: %w", args[0], read, err)
				}
				if flt != nil && !p.Matches(flt) {
					n--
					continue
				}
				switch {
				case a.json:
					err = writeJSONLine(w, p.JSON())
				case verbose:
					err = p.WriteVerbose(w)
				default:
					_, err = fmt.Fprintln(w, p.Summary())
				}
				if err != nil {
					return err
				}
			}
			return nil
		}),
	}
	cmd.Flags().IntVarP(&count, "count", "c", 0, "stop after this many packets (0: all)")
	cmd.Flags().BoolVarP(&verbose, "verbose", "V", false, "show each packet's layers, fields and bytes")
	return cmd
}
