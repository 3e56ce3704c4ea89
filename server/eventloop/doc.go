// Package eventloop is the event-driven server engine: a few event loops,
// one per core by default, each an OS thread waiting on epoll for any of
// its connections to be ready, instead of a goroutine per connection. It
// runs the same server.Handler as the goroutine engine and passes the same
// conformance suite (server/servertest).
//
// How it works, on Linux:
//   - Every loop waits on the listening socket too (EPOLLEXCLUSIVE), so a
//     connection is accepted by a loop that is awake, and stays on that
//     loop for its life: no hand-off between threads.
//   - Reads are edge-triggered and fair: a loop reads at most ReadBudget
//     bytes from one connection per wake-up, then serves the others and
//     comes back.
//   - One read buffer per loop, reused for every connection: an idle
//     connection holds no buffer at all.
//   - Writes go straight to the socket when nothing is queued; what the
//     socket does not take is queued and flushed with writev when epoll
//     says the socket is writable. Past MaxOutput queued bytes the
//     connection stops reading (the peer's sending stalls, not our memory),
//     and writers on other goroutines wait.
//   - Data that arrives with the FIN is delivered before OnEOF; the write
//     side is shut down only after the queue has drained.
//   - Idle connections are found by a timer wheel that costs nothing per
//     read or write.
//   - EMFILE and ENFILE on accept pause accepting with a growing back-off
//     instead of spinning.
//
// Server.Shutdown drains like the goroutine engine's: for DrainGrace it
// goes on reading and answering what peers have sent, then closes each
// connection once its queue is flushed.
package eventloop
