// Package rawsock makes the socket system calls of netkit's event loops
// (the scanner, the event-loop server, the echo load generator) on
// non-blocking sockets.
//
// On linux/amd64 and linux/arm64 they are raw system calls that the Go
// runtime is not told of. A non-blocking call never sleeps, but on
// loopback some take tens of microseconds (a connect runs the whole
// handshake inside it, a write runs the receiver's side of TCP), and the
// runtime's monitor hands the processor of any thread that spends over
// 20 µs in a system call to another thread: thousands of futex and
// nanosleep calls a second that do no work. Elsewhere the calls go
// through golang.org/x/sys/unix.
//
// Every function here is for non-blocking descriptors only: a raw call that
// blocked would stall the runtime.
package rawsock
