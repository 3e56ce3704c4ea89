#!/usr/bin/env bash
# netkit scan against nmap: a full 65,535-port connect scan of the
# loopback of a network namespace of its own, with 40 listeners on random
# ports. The peers: nmap -sT -T4 (its default timing), nmap -sT tuned as a
# power user would (-T5 --min-rate 20000 --max-retries 1), and a SYN scan
# (-sS, the same tuning; root). Checks first that each finds exactly the
# listeners, then times them interleaved (bench/compare). Needs root and
# nmap. Writes the per-round figures to bench/results/scan.figures.json.
#
#   bench/scan.sh [runs, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
command -v nmap >/dev/null || { echo "nmap is needed" >&2; exit 1; }
make -s build
ns="nkscan-$$"
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
rm -f bin/scan-listeners
ip netns exec "$ns" python3 -c '
import socket, sys, time
ls = []
for _ in range(40):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64); ls.append(s)
print(",".join(str(s.getsockname()[1]) for s in ls), flush=True)
time.sleep(3600)' >bin/scan-listeners &
py=$!
trap 'kill $py; ip netns del "$ns"' EXIT
for _ in $(seq 50); do [ -s bin/scan-listeners ] && break; sleep 0.1; done
want=$(tr , '\n' <bin/scan-listeners | sort -n | tr '\n' ' ')
ours=$(ip netns exec "$ns" bin/netkit --json scan 127.0.0.1 -p- | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(str(p["port"]) for p in d["targets"][0]["ports"] if p["state"] == "open"))')
echo "listeners: $want"
[ "$ours " = "$want" ] || { echo "netkit found: $ours" >&2; exit 1; }
tuned="-T5 --min-rate 20000 --max-retries 1"
for opts in "-sT -T4" "-sT $tuned" "-sS $tuned"; do
	theirs=$(ip netns exec "$ns" nmap $opts -p- -n -oG - 127.0.0.1 | grep -o '[0-9]*/open/tcp' | cut -d/ -f1 | sort -n | tr '\n' ' ')
	[ "$theirs" = "$want" ] || { echo "nmap $opts found: $theirs" >&2; exit 1; }
done
echo "netkit and nmap ($(nmap --version | head -1)) all found exactly the 40 listeners"
mkdir -p bench/results
rm -f bench/results/scan.figures.json
ip netns exec "$ns" go run ./bench/compare -n "$runs" \
	-figures bench/results/scan.figures.json -title "full 65,535-port loopback scan, 40 listeners" -script "bench/scan.sh $runs" \
	"netkit=bin/netkit scan 127.0.0.1 -p-" \
	"nmap=nmap -sT -p- -T4 -n 127.0.0.1" \
	"nmap-T5=nmap -sT -p- $tuned -n 127.0.0.1" \
	"nmap-sS=nmap -sS -p- $tuned -n 127.0.0.1" | tee bench/results/scan.txt
