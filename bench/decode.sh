#!/usr/bin/env bash
# netkit decode against tcpdump -nn -r and tshark -n -r on one generated
# pcap (bench/capgen: TCP data over 5,000 flows, DNS, ICMP): CPU seconds,
# wall and peak RSS, output to /dev/null; interleaved rounds, medians
# (bench/compare).
#
#   bench/decode.sh [packets, default 1000000] [runs, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
for p in tcpdump tshark; do
	command -v $p >/dev/null || { echo "$p is needed (apt-get install tcpdump tshark)" >&2; exit 1; }
done
make -s build
n=${1:-1000000}
f=bin/bench-$n.pcap
[ -s "$f" ] || go run ./bench/capgen -n "$n" -o "$f"
mkdir -p bench/results
go run ./bench/compare -n "${2:-5}" \
	"netkit=bin/netkit decode $f" \
	"tcpdump=tcpdump -nn -r $f" \
	"tshark=tshark -n -r $f" | tee bench/results/decode.txt
