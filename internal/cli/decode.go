package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/netkit-dev/netkit/capture"
	"github.com/netkit-dev/netkit/internal/textui"
	"github.com/spf13/cobra"
)

func newDecodeCmd(a *app) *cobra.Command {
	var count int
	var verbose, stats, follow bool
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
(NDJSON). --stats sums up each TCP and UDP flow instead: packets and
bytes each way, the handshake's round trip, retransmissions, segments out
of order, zero windows and resets. --follow prints each TCP stream's bytes
in order instead (retransmitted bytes once; an overlap with different
bytes, or bytes that never came, said on stderr). Wrong IPv4, TCP and UDP
checksums are marked. FILTER, in
tcpdump's language as netkit capture takes it, keeps the packets it
accepts (files of Ethernet frames, or Linux cooked ones as a capture on
any writes).`,
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
			if stats && follow {
				return usageError("--stats and --follow exclude each other")
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
			var flows capture.Flows
			if stats {
				defer func() { w.Flush(); a.render(flowsView{flows.List()}) }()
			}
			fol := followWriter(a, w)
			if follow {
				defer fol.Flush()
			}
			var line []byte // reused for each packet's summary
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
				case stats:
					flows.Add(p)
				case follow:
					fol.Add(p)
				case a.json:
					err = writeJSONLine(w, p.JSON())
				case verbose:
					err = p.WriteVerbose(w)
				default:
					line = append(p.AppendSummary(line[:0]), '\n')
					_, err = w.Write(line)
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
	cmd.Flags().BoolVar(&stats, "stats", false, "sum up each flow instead of showing packets")
	cmd.Flags().BoolVar(&follow, "follow", false, "print each TCP stream's bytes in order instead of packets")
	return cmd
}

type flowsView struct {
	Flows []capture.Flow `json:"flows"`
}

func (v flowsView) writeHuman(w io.Writer, st textui.Style) error {
	t := textui.NewTable("PROTO", "A", "B", "PKTS A>B", "PKTS B>A", "BYTES A>B", "BYTES B>A", "RTT", "RETRANS", "OOO", "ZEROWIN", "RST").AlignRight(3, 4, 5, 6, 7, 8, 9, 10, 11)
	for _, f := range v.Flows {
		rtt := "-"
		if f.HandshakeRTT > 0 {
			rtt = fmtMS(f.HandshakeRTT)
		}
		t.Add(f.Proto, f.A.String(), f.B.String(), strconv.Itoa(f.PacketsAB), strconv.Itoa(f.PacketsBA), strconv.FormatInt(f.BytesAB, 10), strconv.FormatInt(f.BytesBA, 10),
			rtt, strconv.Itoa(f.Retransmitted), strconv.Itoa(f.OutOfOrder), strconv.Itoa(f.ZeroWindows), strconv.Itoa(f.Resets))
	}
	return t.Write(w, st)
}

// followWriter prints reassembled streams: a line naming the direction
// whenever it changes, then the bytes, non-printing ones escaped.
func followWriter(a *app, w *bufio.Writer) *capture.Follow {
	var last [2]netip.AddrPort
	return &capture.Follow{
		Chunk: func(c capture.Chunk) {
			if last != [2]netip.AddrPort{c.From, c.To} {
				last = [2]netip.AddrPort{c.From, c.To}
				fmt.Fprintf(w, "\n== %s > %s (from byte %d)\n", c.From, c.To, c.Offset)
			}
			for _, b := range c.Data {
				if b == '\n' || b == '\t' || b >= 0x20 && b < 0x7f {
					w.WriteByte(b)
				} else if b != '\r' {
					fmt.Fprintf(w, "\\x%02x", b)
				}
			}
		},
		Problem: func(from, to netip.AddrPort, what string) {
			w.Flush()
			fmt.Fprintf(a.io.Err, "netkit: %s > %s: %s\n", from, to, what)
		},
	}
}
