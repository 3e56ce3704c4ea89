// Package netcat joins network connections to a pair of streams, as netcat
// does: the client side of `netkit connect` and the server side of `netkit
// listen`, as a library.
//
// [Bridge] copies an input stream (stdin) to a connection and the
// connection to an output stream (stdout) until the exchange is over, with
// TCP's half-close: when the input ends, the write side is shut down and
// the peer's answer is still read. Over UDP each line of input goes as one
// datagram.
//
// [Serve] is the listening side for stream listeners: one client joined to
// the streams, or with [ListenConfig.Keep] every client at once through a
// [Hub], inetd.Broker between clients, or a program run for each client with
// the socket as its stdin and stdout ([RunProgram], as inetd does).
// [ServePacket] does the same for a UDP socket with a table of peers.
//
// A [Dumper] hexdumps the traffic of either side.
package netcat
