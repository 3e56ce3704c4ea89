#!/usr/bin/env bash
# netkit send/receive (rudp) against atftp, lockstep and with RFC 7440
# windows, fetching the same file through netkit impair (1% loss, 10 ms
# delay each way) inside a network namespace. Rounds rotate the order;
# medians of wall time and goodput are printed, with ratios. Needs root,
# atftp and atftpd.
#
#   bench/tftp.sh [rounds, default 3] [size, default 1M]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
size=${2:-1M}
command -v atftp >/dev/null && command -v atftpd >/dev/null || { echo "atftp and atftpd are needed" >&2; exit 1; }
make -s build
ns="nktftp-$$"
dir=$(mktemp -d)
chmod 755 "$dir"
head -c "$size" /dev/urandom > "$dir/file"
chmod 644 "$dir/file"
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
faults=(--loss 1% --delay 10ms --seed 7)
ip netns exec "$ns" atftpd --daemon --no-fork --bind-address 127.0.0.1 --port 6969 --user root --group root --logfile /dev/null "$dir" & p1=$!
ip netns exec "$ns" bin/netkit impair --listen udp://127.0.0.1:7070 --to udp://127.0.0.1:6969 --follow-port "${faults[@]}" >/dev/null 2>&1 & p2=$!
ip netns exec "$ns" bin/netkit receive 127.0.0.1:9001 -k --force --dir "$dir/in" >/dev/null 2>&1 & p3=$!
ip netns exec "$ns" bin/netkit impair --listen udp://127.0.0.1:9000 --to udp://127.0.0.1:9001 "${faults[@]}" >/dev/null 2>&1 & p4=$!
trap 'kill $p1 $p2 $p3 $p4 2>/dev/null; wait 2>/dev/null; ip netns del "$ns"; rm -rf "$dir"' EXIT
sleep 1
mkdir -p bench/results
ip netns exec "$ns" python3 - "$rounds" "$dir" <<'PY' | tee bench/results/tftp.txt
import os, statistics, subprocess, sys, time
rounds, d = int(sys.argv[1]), sys.argv[2]
size = os.path.getsize(d + "/file")
tftp = ["atftp", "--get", "-r", "file", "-l", d + "/got", "--option", "blksize 1428", "--option", "timeout 1"]
cmds = {
    "netkit send (rudp)": ["bin/netkit", "send", d + "/file", "127.0.0.1:9000"],
    "atftp windowsize 64": tftp + ["--option", "windowsize 64", "127.0.0.1", "7070"],
    "atftp lockstep": tftp + ["127.0.0.1", "7070"],
}
res = {k: [] for k in cmds}
names = list(cmds)
for r in range(rounds):
    for name in names[r % len(names):] + names[:r % len(names)]:
        t = time.monotonic()
        subprocess.run(cmds[name], check=True, capture_output=True)
        res[name].append(time.monotonic() - t)
print(f"{size} bytes through netkit impair (1% loss, 10 ms each way), {rounds} rounds rotating; medians")
print(f"{'contender':>22} {'seconds':>9} {'Mbit/s':>8} {'netkit is x faster':>19}   all seconds")
base = statistics.median(res["netkit send (rudp)"])
for k in cmds:
    m = statistics.median(res[k])
    print(f"{k:>22} {m:9.2f} {size*8/m/1e6:8.2f} {m/base:19.1f}   " + " ".join(f"{x:.2f}" for x in res[k]))
PY
