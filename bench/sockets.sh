#!/usr/bin/env bash
# Sockets layer benchmarks: netkit forward against socat (throughput), and
# netkit serve echo against socat fork, ncat -k -e cat and Python asyncio
# (connection rate). Runs in a network namespace of its own (fixed ports,
# no neighbours), as root. Needs socat, ncat and python3.
#
#   bench/sockets.sh [sockbench flags: -rounds 5 -gib 2 -duration 3s -only forward]
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build
go build -o bin/sockbench ./bench/sockbench
ns="nkbench-$$"
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
ip netns exec "$ns" ip link set lo up
# Many short connections from one client: let it reuse ports in TIME_WAIT.
ip netns exec "$ns" sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="10000 65000"
mkdir -p bench/results
ip netns exec "$ns" bin/sockbench -json bench/results/sockets.json "$@"
