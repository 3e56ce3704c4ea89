// Package server runs connection-oriented and datagram services: the
// listen-accept-serve loop of every network server, with limits, counters,
// logging and a graceful Shutdown.
//
// A [Handler] serves a stream connection through event callbacks: OnOpen
// when it is accepted, OnData for each chunk read, OnEOF when the peer has
// finished sending (a half-close), and OnClose at the end. Embed [Base] for
// no-op defaults. Handlers write through [Conn], whose Write may be called
// from any goroutine. The same Handler runs on every engine: [Server] is the
// goroutine (multithreaded) engine, one goroutine per connection; package
// server/eventloop is the epoll (event-driven) engine. Package
// server/servertest holds the conformance suite that both pass.
//
// Code that would rather read and write a net.Conn in its own loop uses a
// [StreamHandler] instead; only the goroutine engine runs those.
//
// A [PacketHandler] serves datagrams, one call per datagram with the peer's
// address; [PacketServer] runs it on a net.PacketConn.
package server
