// Package perf measures servers and paths: [RunEcho] is a request/response
// load generator for echo servers that checks every byte that comes back
// and reports throughput and latency percentiles from a [Histogram].
package perf
