#!/usr/bin/env bash
# netkit http serve against python3 -m http.server and nginx (Debian's
# nginx-light, tuned: a worker per core, sendfile, tcp_nopush, no access
# log), all serving one directory, inside a network namespace of its own:
#  1. wrk -t2 -c32 on a 1 KiB file: the server's CPU per request (from
#     /proc, over the measured interval, nginx's workers included) and
#     requests a second;
#  2. curl fetching a 1 GiB file: throughput and the server's CPU per GiB.
# And the client side of issue 21: netkit http --jq over a 100 MiB JSON
# body against curl | jq. Contenders are interleaved and rotated; medians.
#
#   bench/httpserve.sh [runs, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
for p in wrk nginx curl jq python3; do
	command -v $p >/dev/null || { echo "$p is needed (apt-get install wrk nginx-light curl jq python3)" >&2; exit 1; }
done
make -s build
ns="nkhttp-$$"
ip netns add "$ns"
trap 'ip netns pids "$ns" | xargs -r kill; sleep 0.5; ip netns del "$ns"' EXIT
ip netns exec "$ns" ip link set lo up
mkdir -p bench/results
ip netns exec "$ns" python3 bench/httpservebench.py "${1:-5}" | tee bench/results/httpserve.txt
