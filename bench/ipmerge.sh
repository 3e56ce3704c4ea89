#!/usr/bin/env bash
# Aggregation benchmark: netkit ip merge against Debian's iprange (IPv4;
# its IPv6 support is broken) and Python's ipaddress.collapse_addresses,
# on 1,000,000 random lines of each family from a fixed seed. Checks that
# netkit's output is identical to Python's. Needs iprange and python3.
#
#   bench/ipmerge.sh [-n RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
make -s build
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go run ./bench/ipgen -n 1000000 > "$dir/v4.txt"
go run ./bench/ipgen -n 1000000 -6 > "$dir/v6.txt"

echo "== output check: netkit against Python"
for f in v4 v6; do
	bin/netkit ip merge "$dir/$f.txt" > "$dir/$f.netkit"
	python3 bench/collapse.py "$dir/$f.txt" > "$dir/$f.python"
	if cmp -s "$dir/$f.netkit" "$dir/$f.python"; then
		echo "$f: identical ($(wc -l < "$dir/$f.netkit") prefixes)"
	else
		echo "$f: DIFFERENT"; diff "$dir/$f.netkit" "$dir/$f.python" | head; exit 1
	fi
done
# iprange writes /32s without the suffix; compare the sets it means.
iprange "$dir/v4.txt" | sed -E '/\//!s/$/\/32/' > "$dir/v4.iprange"
cmp -s "$dir/v4.iprange" "$dir/v4.netkit" && echo "v4: iprange agrees" || { echo "v4: iprange DIFFERS"; exit 1; }

mkdir -p bench/results
echo "== IPv4, 1M lines"
go run ./bench/compare -n "$runs" \
	netkit="bin/netkit ip merge $dir/v4.txt > /dev/null" \
	iprange="iprange $dir/v4.txt > /dev/null" \
	python="python3 bench/collapse.py $dir/v4.txt > /dev/null" | tee bench/results/ipmerge-v4.txt
echo "== IPv6, 1M lines"
go run ./bench/compare -n "$runs" \
	netkit="bin/netkit ip merge $dir/v6.txt > /dev/null" \
	python="python3 bench/collapse.py $dir/v6.txt > /dev/null" | tee bench/results/ipmerge-v6.txt
