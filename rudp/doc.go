// Package rudp is a reliable, ordered, connection-oriented byte stream
// over UDP, written by hand so that the machinery TCP hides in the kernel
// can be read and traced: packet numbers, cumulative and selective
// acknowledgements, loss detection by RACK with tail loss probes (RFC
// 8985), retransmission timeouts from timestamped RTT samples (RFC 6298),
// BBR congestion control with pacing (CUBIC by choice), a receive window,
// CRC32C on every datagram, keepalives and a handshake whose cookie keeps
// a spoofed open from costing the listener any state, and forward error
// correction (Config.FEC: Reed-Solomon parity after each group of
// packets, negotiated per direction in the handshake, as much as the
// measured loss calls for, and sent for a group a trickle leaves
// unfilled). Conn and Listener implement net.Conn and net.Listener.
//
// Nothing is encrypted: where confidentiality matters, use QUIC
// (github.com/quic-go/quic-go).
package rudp
