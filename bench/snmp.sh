#!/usr/bin/env bash
# netkit snmp against net-snmp, inside a network namespace of its own:
#  1. walking snmpd's whole tree, on loopback and through netkit impair at
#     20 ms RTT: netkit snmp walk (max-repetitions adapting) against
#     snmpbulkwalk at each fixed -Cr (the best one is the reference) and
#     snmpwalk (GETNEXT); wall time is the figure;
#  2. serving a bulk walk of ifTable with 10,000 interfaces (veth links
#     in the namespace): netkit snmp serve against snmpd, both walked by
#     snmpbulkwalk -Cr50; the agent's CPU per walk (from /proc) and the
#     wall time.
# Contenders are interleaved and rotated; medians of the runs.
#
#   bench/snmp.sh [runs, default 5] [walk|loopback|agent, default all]
set -euo pipefail
cd "$(dirname "$0")/.."
for p in snmpd snmpbulkwalk snmpwalk; do
	command -v $p >/dev/null || { echo "$p is needed (apt-get install snmpd snmp)" >&2; exit 1; }
done
make -s build
ns="nksnmp-$$"
ip netns add "$ns"
trap 'ip netns pids "$ns" | xargs -r kill; sleep 0.5; ip netns del "$ns"' EXIT
ip netns exec "$ns" ip link set lo up
mkdir -p bench/results
ip netns exec "$ns" python3 bench/snmpbench.py "${1:-5}" "${2:-all}" | tee bench/results/snmp-${2:-all}.txt
