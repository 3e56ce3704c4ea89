package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"time"
)

// Conn is a connection as a [Handler] sees it. Its methods are safe for
// concurrent use, so a handler may write to one connection from another's
// callback (a chat room does).
type Conn interface {
	// Write sends p, all of it or an error. The connection does not keep
	// p after Write returns.
	Write(p []byte) (int, error)
	// CloseWrite sends what was written, then shuts down the write side
	// (TCP FIN); the peer may go on sending.
	CloseWrite() error
	// Close sends what was written, then closes the connection. OnClose
	// follows.
	Close() error
	// ID is unique among the server's connections.
	ID() uint64
	LocalAddr() net.Addr
	RemoteAddr() net.Addr
	// SetValue and Value hold one value of the handler's own per
	// connection, such as a parser's state.
	SetValue(v any)
	Value() any
}

// Handler serves stream connections through event callbacks. The engine
// calls one connection's callbacks one at a time, in order: OnOpen, OnData
// any number of times, OnEOF at most once, OnClose exactly once. The data
// passed to OnData is valid only during the call.
type Handler interface {
	// OnOpen is called when the connection is accepted.
	OnOpen(c Conn)
	// OnData is called with each chunk of bytes read.
	OnData(c Conn, p []byte)
	// OnEOF is called when the peer has shut down its write side. The
	// connection stays open until the handler closes it.
	OnEOF(c Conn)
	// OnClose is called once the connection is closed: err is nil after
	// Close, and says why otherwise (a reset, ErrIdle, ErrShutdown).
	OnClose(c Conn, err error)
}

// Base is a Handler that does nothing but close the connection at the
// peer's EOF. Embed it to write only the callbacks a service needs.
type Base struct{}

func (Base) OnOpen(Conn)         {}
func (Base) OnData(Conn, []byte) {}
func (Base) OnEOF(c Conn)        { c.Close() }
func (Base) OnClose(Conn, error) {}

var _ Handler = Base{}

// StreamHandler serves a connection in its own blocking loop, as
// net/http's handlers do. It gets the accepted net.Conn itself, so it may
// splice it or hand its file descriptor to a child process; the server does
// not count its bytes. ServeStream returns when it is done with the
// connection; the server closes it then. ctx is cancelled when the server
// is shut down and its grace period ends.
type StreamHandler interface {
	ServeStream(ctx context.Context, c net.Conn)
}

// StreamFunc adapts a function to a [StreamHandler].
type StreamFunc func(ctx context.Context, c net.Conn)

// ServeStream calls f(ctx, c).
func (f StreamFunc) ServeStream(ctx context.Context, c net.Conn) { f(ctx, c) }

// PacketWriter sends datagrams from the server's socket.
type PacketWriter interface {
	WriteTo(p []byte, to netip.AddrPort) (int, error)
}

// PacketHandler serves datagrams. ServePacket is called once per datagram
// with the peer's address; p is valid only during the call.
type PacketHandler interface {
	ServePacket(w PacketWriter, p []byte, from netip.AddrPort)
}

// PacketFunc adapts a function to a [PacketHandler].
type PacketFunc func(w PacketWriter, p []byte, from netip.AddrPort)

// ServePacket calls f(w, p, from).
func (f PacketFunc) ServePacket(w PacketWriter, p []byte, from netip.AddrPort) { f(w, p, from) }

// Errors that OnClose receives, and that Serve returns.
var (
	ErrIdle         = errors.New("server: idle timeout")
	ErrShutdown     = errors.New("server: shut down")
	ErrEvicted      = errors.New("server: evicted, idle longest, for a new connection (EvictIdle)")
	ErrServerClosed = errors.New("server: Serve called after Shutdown")
	ErrNoHandler    = errors.New("server: no Handler or StreamHandler")
	ErrTwoHandlers  = errors.New("server: both a Handler and a StreamHandler")
)

// Config holds what every engine takes besides the handler. Its zero value
// serves without limits or timeouts and logs nothing.
type Config struct {
	// MaxConns caps the connections open at once; more are accepted and
	// closed at once, and counted as rejected. If zero, no cap.
	MaxConns int
	// MaxConnsPerIP caps the open connections from one source address.
	// If zero, no cap.
	MaxConnsPerIP int
	// IdleTimeout closes a connection that has read nothing and written
	// nothing for this long. If zero, never.
	IdleTimeout time.Duration
	// EvictIdle lets a new connection in when MaxConns are open by closing
	// the one idle longest, if it has been idle at least this long (RFC
	// 7766 section 6.2.3 asks this of DNS servers): clients that connect
	// and stall cannot lock the others out. If zero, a new connection
	// past MaxConns is rejected. The goroutine engine only.
	EvictIdle time.Duration
	// WriteTimeout bounds each write. If zero, writes wait as long as the
	// peer takes.
	WriteTimeout time.Duration
	// ReadBufferSize is the size of the buffer each read fills. If zero,
	// 32 KiB.
	ReadBufferSize int
	// DrainGrace is how long Shutdown goes on reading data that peers
	// have already sent, so that every request that arrived is answered,
	// before it closes connections. If zero, 100ms.
	DrainGrace time.Duration
	// Filter, if set, is asked about every accepted connection; an error
	// rejects it and is logged as the reason.
	Filter func(remote netip.AddrPort) error
	// Logger logs accepts, rejections and errors. If nil, nothing is
	// logged.
	Logger *slog.Logger
	// Events, if set, is called for each connection event. It must not
	// block.
	Events func(Event)
}

const (
	defaultReadBuffer = 32 << 10
	defaultDrainGrace = 100 * time.Millisecond
)

func (c *Config) readBufferSize() int {
	if c.ReadBufferSize > 0 {
		return c.ReadBufferSize
	}
	return defaultReadBuffer
}

func (c *Config) drainGrace() time.Duration {
	if c.DrainGrace > 0 {
		return c.DrainGrace
	}
	return defaultDrainGrace
}

// EventKind names a connection event.
type EventKind string

// The connection events.
const (
	EventAccepted EventKind = "accepted"
	EventRejected EventKind = "rejected"
	EventClosed   EventKind = "closed"
)

// Event reports what happened to one connection.
type Event struct {
	Kind   EventKind
	ID     uint64
	Remote netip.AddrPort
	Local  netip.AddrPort
	// Reason says why a connection was rejected.
	Reason string
	// BytesIn, BytesOut, Duration and Err describe a closed connection.
	BytesIn, BytesOut uint64
	Duration          time.Duration
	Err               error
}

// Stats counts a server's connections and bytes.
type Stats struct {
	Accepted uint64 // connections accepted and served
	Active   int64  // connections open now
	Rejected uint64 // connections refused by a limit or the filter
	BytesIn  uint64 // bytes read from peers by Handlers
	BytesOut uint64 // bytes written to peers by Handlers
}
