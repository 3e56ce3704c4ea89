#!/usr/bin/env bash
# The server-engine matrix (issue 7): goroutine engine, event loop, Python
# asyncio and ThreadingTCPServer x connections x payloads, the server on CPU
# 0 and `netkit bench echo` on CPU 1, in a network namespace of its own
# (fixed port 9000), as root. Writes bench/results/echo.{json,svg}.
#
#   bench/echo.sh                                    # the whole matrix, 5 rounds
#   bench/echo.sh -rounds 3 -conns 1000 -payloads 64 # one cell
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build
go build -o bin/echobench ./bench/echobench
ns="nkecho-$$"
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" sysctl -qw net.core.somaxconn=8192 net.ipv4.tcp_max_syn_backlog=8192 net.ipv4.ip_local_port_range="10000 65000"
mkdir -p bench/results
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
ip netns exec "$ns" bin/echobench "$@"
