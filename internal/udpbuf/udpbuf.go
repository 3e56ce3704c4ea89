// Package udpbuf sizes UDP socket buffers as large as the process may:
// a datagram that arrives to a full receive buffer is dropped by the
// kernel, which a relay or a transport would otherwise count as the
// path's loss.
package udpbuf

import "net"

// Size asks for receive and send buffers of n bytes each. On Linux it
// uses SO_RCVBUFFORCE and SO_SNDBUFFORCE, which pass net.core.rmem_max
// and wmem_max when the process may (root or CAP_NET_ADMIN), and falls
// back to the plain options, which the kernel caps at those limits.
func Size(pc *net.UDPConn, n int) {
	if !force(pc, n) {
		pc.SetReadBuffer(n)
		pc.SetWriteBuffer(n)
	}
}
