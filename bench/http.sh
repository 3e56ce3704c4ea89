#!/usr/bin/env bash
# netkit http against curl, both fetching from one local Go net/http
# server: a large download (throughput, CPU seconds and peak RSS, which
# must stay flat however large the body) and many small requests over one
# kept-alive connection. Interleaved runs, medians (bench/compare); the
# per-round figures go to bench/results/http.figures.json.
#
#   bench/http.sh [GiB, default 4] [requests, default 500]
set -euo pipefail
cd "$(dirname "$0")/.."
gib=${1:-4}
reqs=${2:-500}
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 1; }
make -s build
go build -o bin/httpserve ./bench/httpserve
bin/httpserve >bin/httpserve.addr &
srv=$!
trap 'kill $srv' EXIT
for _ in $(seq 50); do [ -s bin/httpserve.addr ] && break; sleep 0.1; done
base="http://$(cat bin/httpserve.addr)"
size=$((gib << 30))
many=$(for i in $(seq "$reqs"); do printf '%s/bytes/1024 ' "$base"; done)
mkdir -p bench/results
figs=bench/results/http.figures.json
rm -f "$figs"
fig=(-with "$srv" -figures "$figs" -script "bench/http.sh $gib $reqs" -title)
{
echo "== download of $gib GiB (Content-Length)"
go run ./bench/compare -n 9 "${fig[@]}" "download of $gib GiB, Content-Length" \
	"netkit=bin/netkit http get -o /dev/null $base/bytes/$size" \
	"curl=curl --http1.1 -s -o /dev/null $base/bytes/$size"
echo "== download of $gib GiB (chunked)"
go run ./bench/compare -n 9 "${fig[@]}" "download of $gib GiB, chunked" \
	"netkit=bin/netkit http get -o /dev/null $base/bytes/$size?chunked=1" \
	"curl=curl --http1.1 -s -o /dev/null $base/bytes/$size?chunked=1"
echo "== $reqs requests of 1 KiB on one connection"
go run ./bench/compare -n 9 "${fig[@]}" "$reqs requests of 1 KiB on one connection" \
	"netkit=bin/netkit http get $many" \
	"curl=curl --http1.1 -s $many"
} | tee bench/results/http.txt
