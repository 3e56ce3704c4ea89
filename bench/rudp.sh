#!/usr/bin/env bash
# rudp against quic-go and kcp-go (tuned: turbo mode, large windows),
# each moving the same bytes from a sender to a receiver in one process,
# through netkit impair with delay and loss, in a network namespace of its
# own. Rounds rotate the order; medians of goodput and of the process's
# CPU seconds per GiB (both ends of the transfer) are printed, and each
# ratio to rudp. Needs root.
#
#   bench/rudp.sh [rounds, default 5] [bytes for lossy runs, default 64M] [results file]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
lossy=${2:-64M}
results=${3:-bench/results/rudp.txt}
make -s build
(cd bench/rudpbench && go build -o ../../bin/rudpbench .)
ns="nkrudp-$$"
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
trap 'ip netns del "$ns"' EXIT
mkdir -p bench/results
ip netns exec "$ns" python3 - "$rounds" "$lossy" <<'PY' | tee "$results"
import json, os, signal, statistics, subprocess, sys, time
rounds, lossy = int(sys.argv[1]), sys.argv[2]
transports = ["rudp", "rudp-fec", "quic", "kcp"]
regimes = [
    ("loopback, no impairment", None, "64M"),
    ("impair: 0% loss, 10 ms delay each way", ["--delay", "10ms"], "64M"),
    ("impair: 1% random loss, 10 ms delay each way", ["--loss", "1%", "--delay", "10ms"], lossy),
    ("impair: 5% random loss, 10 ms delay each way", ["--loss", "5%", "--delay", "10ms"], lossy),
    ("impair: Gilbert-Elliott 1% (P 0.1%, R 10%), 10 ms delay", ["--ge", "0.1%,10%", "--delay", "10ms"], lossy),
    ("impair: Gilbert-Elliott 5% (P 0.5%, R 10%), 10 ms delay", ["--ge", "0.5%,10%", "--delay", "10ms"], lossy),
]
def run(t, faults, size, port):
    rx, via = f"127.0.0.1:{port}", f"127.0.0.1:{port+1}"
    imp = None
    if faults is not None:
        imp = subprocess.Popen(["bin/netkit", "impair", "--listen", "udp://" + via, "--to", "udp://" + rx, "--seed", str(port)] + faults,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        args = ["-listen", rx, "-via", via]
    else:
        args = []
    try:
        # quic-go moves a few Mbit/s under loss: it sends for 10 s
        # instead of moving all the bytes (goodput is the same measure).
        amount = ["-for", "10s"] if t == "quic" and faults and ("--loss" in faults or "--ge" in faults) else ["-bytes", size]
        out = subprocess.run(["bin/rudpbench", "-transport", t] + amount + ["-timeout", "5m"] + args,
                             capture_output=True, text=True, timeout=330)
    finally:
        if imp:
            imp.send_signal(signal.SIGINT); imp.wait()
    if out.returncode != 0:
        lines = out.stderr.strip().splitlines()
        return lines[-1] if lines else f"exit {out.returncode}"
    return json.loads(out.stdout)
port = 20000
for name, faults, size in regimes:
    res = {t: [] for t in transports}
    failed = {t: [] for t in transports}
    for r in range(rounds):
        order = transports[r % len(transports):] + transports[:r % len(transports)]
        for t in order:
            port += 2
            d = run(t, faults, size, port)
            if isinstance(d, dict):
                res[t].append(d)
            else:
                failed[t].append(d)
    print(f"\n{name}, {size} per run, {rounds} rounds rotating; medians")
    print(f"{'transport':>10} {'Mbit/s':>9} {'CPU s/GiB':>10} {'goodput vs rudp':>16} {'CPU vs rudp':>12}   all Mbit/s")
    med = {t: (statistics.median(x["mbit_per_s"] for x in v), statistics.median(x["cpu_s_per_gib"] for x in v)) for t, v in res.items() if v}
    for t in transports:
        if t not in med:
            print(f"{t:>10}  failed every run: {failed[t][0]}"); continue
        g, c = med[t]
        note = f"   ({len(failed[t])} of {rounds} failed: {failed[t][0]})" if failed[t] else ""
        print(f"{t:>10} {g:9.1f} {c:10.2f} {g/med['rudp'][0]:16.2f} {c/med['rudp'][1]:12.2f}   " + " ".join(f"{x['mbit_per_s']:.1f}" for x in res[t]) + note)
    sys.stdout.flush()
PY
