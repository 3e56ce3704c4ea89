#!/usr/bin/env bash
# netkit capture against tcpdump under iperf3's load on a namespace's
# loopback: packets captured and dropped, and CPU a packet. Needs root.
#
#   bench/capture.sh [runs, default 5] [seconds of iperf3, default 4]
set -euo pipefail
cd "$(dirname "$0")/.."
for p in iperf3 tcpdump; do command -v $p >/dev/null || { echo "$p is needed" >&2; exit 1; }; done
make -s build
ns="nkcap-$$"
ip netns add "$ns"
trap 'ip netns pids "$ns" | xargs -r kill; sleep 0.5; ip netns del "$ns"' EXIT
ip netns exec "$ns" ip link set lo up
mkdir -p bench/results
ip netns exec "$ns" /usr/bin/python3 bench/capturebench.py "${1:-5}" "${2:-4}" | tee bench/results/capture.txt
