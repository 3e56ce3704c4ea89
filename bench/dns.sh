#!/usr/bin/env bash
# netkit dns serve against NSD, Knot and unbound, measured with dnsperf: the
# authoritative answers of a 2,000-record zone, and cache hits of a caching
# forwarder (netkit --forward and unbound forwarding to NSD, warmed first).
# Writes the per-round figures to bench/results/dns.figures.json.
# Each server runs on core 0 (GOMAXPROCS=1, one NSD server, one unbound
# thread, one Knot UDP worker), dnsperf on core 1, all inside a network namespace of its own.
# Contenders are interleaved; the medians of the runs are printed with the
# server CPU microseconds per query, from /proc, and the ratios.
#
#   bench/dns.sh [runs, default 5] [seconds per run, default 8]
set -euo pipefail
cd "$(dirname "$0")/.."
for p in dnsperf nsd unbound knotd; do
	command -v $p >/dev/null || { echo "$p is needed (apt-get install dnsperf nsd unbound knot)" >&2; exit 1; }
done
make -s build
ns="nkdns-$$"
ip netns add "$ns"
trap 'ip netns pids "$ns" | xargs -r kill; sleep 0.5; ip netns del "$ns"' EXIT
ip netns exec "$ns" ip link set lo up
mkdir -p bench/results
ip netns exec "$ns" python3 bench/dnsbench.py "${1:-5}" "${2:-8}" bench/results/dns.figures.json | tee bench/results/dns.txt
