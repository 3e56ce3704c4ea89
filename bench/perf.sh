#!/usr/bin/env bash
# netkit perf against iperf3: TCP throughput over one stream on loopback,
# iperf3 client against iperf3 server and netkit against netkit, in a
# network namespace of its own. Rounds alternate which goes first; the
# medians and their ratio are printed. CPU seconds of each client are
# measured too. Needs root and iperf3.
#
#   bench/perf.sh [rounds, default 5] [seconds per test, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
secs=${2:-5}
command -v iperf3 >/dev/null || { echo "iperf3 is needed" >&2; exit 1; }
make -s build
ns="nkperf-$$"
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" iperf3 -s -p 5301 >/dev/null 2>&1 &
ipf=$!
ip netns exec "$ns" bin/netkit perf server tcp://127.0.0.1:5302 >/dev/null 2>&1 &
nk=$!
trap 'kill $ipf $nk; ip netns del "$ns"' EXIT
sleep 1
mkdir -p bench/results
ip netns exec "$ns" python3 - "$rounds" "$secs" <<'PY' | tee bench/results/perf.txt
import json, resource, statistics, subprocess, sys
rounds, secs = int(sys.argv[1]), sys.argv[2]
cmds = {
    "iperf3": (["iperf3", "-c", "127.0.0.1", "-p", "5301", "-t", secs, "-J"],
               lambda d: d["end"]["sum_received"]["bits_per_second"]),
    "netkit": (["bin/netkit", "--json", "perf", "client", "127.0.0.1:5302", "-t", secs, "-i", "0"],
               lambda d: d["up"]["bits_per_second"]),
}
res = {k: [] for k in cmds}
cpu = {k: [] for k in cmds}
order = list(cmds)
for r in range(rounds):
    for name in (order if r % 2 == 0 else order[::-1]):
        argv, get = cmds[name]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        res[name].append(get(json.loads(out)))
        cpu[name].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
print(f"TCP, one stream, {secs} s per test, {rounds} rounds alternating; medians")
print(f"{'client':>8} {'Gbit/s':>8} {'client CPU s':>13}   all Gbit/s")
for k in cmds:
    print(f"{k:>8} {statistics.median(res[k])/1e9:8.2f} {statistics.median(cpu[k]):13.2f}   " + " ".join(f"{v/1e9:.2f}" for v in res[k]))
print(f"netkit/iperf3 throughput ratio: {statistics.median(res['netkit'])/statistics.median(res['iperf3']):.2f}")
PY
