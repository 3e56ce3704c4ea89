// Package capture reads and explains packets: pcap and pcapng files
// (github.com/gopacket/gopacket/pcapgo, never its cgo pcap package) read
// as a stream, whatever their size, and each packet decoded into its
// layer cake (github.com/gopacket/gopacket/layers): the link frame, the
// IP packet inside it, the TCP segment or UDP datagram inside that, and
// the application's bytes.
//
// A [Packet] prints as one line, tcpdump's way ([Packet.Summary]): time,
// addresses, protocol, TCP flags, sequence and acknowledgement numbers,
// window and length, UDP length, ICMP type, DNS questions and answers,
// an HTTP request line. [Packet.Layers] describes every layer with its
// offset, its header's length and its fields, for the full view (-V) and
// for JSON. IPv4, TCP, UDP and ICMP checksums are verified and a wrong
// one is marked; on a live capture, outgoing packets whose checksums the
// network card fills in (offload) look wrong, and are marked too.
package capture
