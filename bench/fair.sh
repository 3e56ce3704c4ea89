#!/usr/bin/env bash
# Two rudp flows and one quic-go flow share one bottleneck (netkit impair
# with a shared path: 50 Mbit/s, a 64 KiB tail-drop queue, 10 ms delay
# each way) for the same stretch of time, in a network namespace. Prints
# each flow's goodput, Jain's fairness index of the two rudp flows, and
# rudp's goodput against quic-go's; medians over the rounds. Needs root.
#
#   bench/fair.sh [rounds, default 3] [seconds, default 10] [rudp congestion: bbr or cubic]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
secs=${2:-10}
cc=${3:-bbr}
make -s build
(cd bench/rudpbench && go build -o ../../bin/rudpbench .)
ns="nkfair-$$"
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
trap 'ip netns del "$ns"' EXIT
mkdir -p bench/results
ip netns exec "$ns" python3 - "$rounds" "$secs" "$cc" <<'PY' | tee "bench/results/fair-$cc.txt"
import json, signal, statistics, subprocess, sys, time
rounds, secs, cc = int(sys.argv[1]), sys.argv[2], sys.argv[3]
flows = [("rudp", 21000), ("rudp", 21010), ("quic", 21020)]
res = {i: [] for i in range(3)}
jain, ratio = [], []
for r in range(rounds):
    args = ["bin/netkit", "impair", "--rate", "50M", "--queue", "64K", "--delay", "10ms", "--seed", str(r + 1)]
    for i, (_, port) in enumerate(flows):
        if i == 0:
            args += ["--listen", f"udp://127.0.0.1:{port+1}", "--to", f"udp://127.0.0.1:{port}"]
        else:
            args += ["--also", f"udp://127.0.0.1:{port+1}=udp://127.0.0.1:{port}"]
    imp = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    procs = [subprocess.Popen(["bin/rudpbench", "-transport", t, "-cc", cc, "-for", secs + "s", "-listen", f"127.0.0.1:{port}", "-via", f"127.0.0.1:{port+1}"],
                              stdout=subprocess.PIPE, text=True) for t, port in flows]
    outs = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
    imp.send_signal(signal.SIGINT); imp.wait()
    g = [o["mbit_per_s"] for o in outs]
    for i in range(3):
        res[i].append(g[i])
    jain.append((g[0] + g[1]) ** 2 / (2 * (g[0] ** 2 + g[1] ** 2)))
    ratio.append(((g[0] + g[1]) / 2) / g[2])
print(f"rudp with {cc}: two rudp flows and one quic-go flow through one 50 Mbit/s bottleneck (64 KiB queue, 10 ms each way), {secs} s, {rounds} rounds; medians")
for i, (t, _) in enumerate(flows):
    print(f"  flow {i+1} {t:>5}: {statistics.median(res[i]):6.1f} Mbit/s   all: " + " ".join(f"{x:.1f}" for x in res[i]))
print(f"  Jain's index of the two rudp flows: {statistics.median(jain):.3f}   all: " + " ".join(f"{x:.3f}" for x in jain))
print(f"  a rudp flow's goodput / quic-go's: {statistics.median(ratio):.2f}   all: " + " ".join(f"{x:.2f}" for x in ratio))
PY
