// Package perf measures servers and paths.
//
// [RunEcho] is a request/response load generator for echo servers that
// checks every byte that comes back and reports throughput and latency
// percentiles from a [latency.Histogram].
//
// [Server] and [Run] measure a path, as iperf3 does: TCP or UDP, one or
// several streams, client to server, server to client (Reverse) or both
// (Bidir), for a time or a number of bytes, at full speed or at a target
// bitrate, with a report every interval. UDP streams carry sequence
// numbers and send times, so the receiver counts loss, reordering and
// duplicates and computes jitter as RFC 3550 defines it; datagrams the
// receiving host itself dropped for want of socket buffer (RcvbufErrors)
// are counted apart from loss on the path. RR mode measures
// request/response latency instead, with p50/p99/p99.9.
//
// The protocol is netkit's own: a control connection carrying JSON lines,
// data connections (TCP) or datagrams (UDP) tagged with the test's cookie,
// all on one port. A server runs any number of tests at once.
package perf
