package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/netkit-dev/netkit/capture"
	"github.com/spf13/cobra"
)

func newCaptureCmd(a *app) *cobra.Command {
	var l capture.Live
	var out string
	var dump bool
	cmd := &cobra.Command{
		Use:   "capture [-i IFACE] [-c COUNT] [-w FILE] [FILTER...]",
		Short: "Capture packets from an interface (AF_PACKET) and show them, or write a pcap file",
		Long: `Captures the packets that cross an interface (-i; "any", the default, for
all of them, with Linux cooked headers) with an AF_PACKET socket, and
prints one line a packet as netkit decode does, or writes them to a pcap
file (-w; - for stdout) that tcpdump, tshark and netkit decode read. At the
end it says, as tcpdump does, how many packets were captured, how many the
socket received and how many the kernel dropped. On loopback each packet
is shown once. Needs root or CAP_NET_RAW.

FILTER is tcpdump's language (the common part: ip, ip6, arp, tcp, udp,
icmp, host, net, port, portrange, src, dst, tcp[tcpflags] & tcp-syn != 0,
and, or, not, parentheses, vlan [ID]), compiled by netkit to classic BPF and run in
the kernel (on any, and on interfaces without Ethernet framing, relocated
to the network header; vlan reads the tag Linux keeps beside the packet,
and the tag is put back in the frames shown and written, as libpcap
does); -d prints the program instead of capturing.

Checksums of outgoing packets often look wrong on a live capture: the
network card (or, on loopback, nobody) fills them in after the copy is
taken.`,
		Example: `  sudo netkit capture -i lo -c 10 tcp port 80
  sudo netkit capture -i eth0 -w trace.pcap -c 1000 'not port 22' && netkit decode trace.pcap
  netkit capture -d 'tcp[tcpflags] & tcp-syn != 0'`,
		GroupID: groupNetwork,
		RunE: a.runE(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			if l.Count < 0 || l.Snaplen < 0 {
				return usageError("-c and --snaplen may not be negative")
			}
			if len(args) > 0 || dump {
				flt, err := capture.CompileFilter(strings.Join(args, " "))
				if err != nil {
					return inputError(err)
				}
				if dump {
					for i, ins := range flt.Program {
						fmt.Fprintf(a.io.Out, "(%03d) %v\n", i, ins)
					}
					return nil
				}
				l.Filter = flt
			}
			return runCapture(ctx, a, &l, out)
		}),
	}
	f := cmd.Flags()
	f.StringVarP(&l.Interface, "interface", "i", "any", "capture on this interface")
	f.IntVarP(&l.Count, "count", "c", 0, "stop after this many packets (0: until interrupted)")
	f.StringVarP(&out, "write", "w", "", "write the packets to this `FILE` instead of showing them: pcapng when it ends in .pcapng, pcap otherwise (- for stdout)")
	f.IntVar(&l.Snaplen, "snaplen", 0, "keep at most this many bytes of each packet (default 262144)")
	f.BoolVarP(&dump, "dump", "d", false, "print the filter's BPF program and exit")
	return cmd
}

func runCapture(ctx context.Context, a *app, l *capture.Live, out string) error {
	link, err := l.LinkType()
	if err != nil {
		return inputError(err)
	}
	var w interface {
		WritePacket(gopacket.CaptureInfo, []byte) error
	}
	var flush func() error
	var bw *bufio.Writer
	show := bufio.NewWriter(a.io.Out)
	flush = show.Flush
	if out != "" {
		var dst io.Writer = a.io.Out
		if out != "-" {
			f, err := os.Create(out)
			if err != nil {
				return err
			}
			defer f.Close()
			dst = f
		}
		bw = bufio.NewWriterSize(dst, 1<<20)
		flush = bw.Flush
		if strings.HasSuffix(out, ".pcapng") {
			ng, err := pcapgo.NewNgWriter(bw, link)
			if err != nil {
				return err
			}
			w, flush = ng, func() error {
				if err := ng.Flush(); err != nil {
					return err
				}
				return bw.Flush()
			}
		} else {
			pw := pcapgo.NewWriter(bw)
			snap := l.Snaplen
			if snap == 0 {
				snap = 262144
			}
			if err := pw.WriteFileHeader(uint32(snap), link); err != nil {
				return err
			}
			w = pw
		}
		// The header goes out now: a reader of the file sees a capture,
		// empty so far, from the start.
		if err := flush(); err != nil {
			return err
		}
	}
	defer flush()
	flushed := time.Now()
	st, err := l.Run(ctx, func(data []byte, length int, at time.Time) error {
		if w != nil {
			// Packets go out in batches, at least every 200 ms, and each
			// batch ends with a whole packet, so that a reader of the
			// growing file (netkit decode, tcpdump -r) never sees half of
			// one: a packet that does not fit flushes the batch first.
			if bw.Available() < len(data)+64 {
				if err := flush(); err != nil {
					return err
				}
			}
			if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(data), Length: length}, data); err != nil {
				return err
			}
			if now := time.Now(); now.Sub(flushed) > 200*time.Millisecond {
				flushed = now
				return flush()
			}
			return nil
		}
		fmt.Fprintln(show, capture.Decode(data, link, at, length).Summary())
		return show.Flush()
	})
	if errors.Is(err, capture.ErrPrivilege) {
		return err
	}
	if ferr := flush(); err == nil {
		err = ferr
	}
	fmt.Fprintf(a.io.Err, "%d packets captured\n%d packets received by the socket\n%d packets dropped by the kernel\n", st.Captured, st.Received, st.Dropped)
	if ctx.Err() != nil {
		return nil
	}
	return err
}
