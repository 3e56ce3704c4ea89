#!/usr/bin/env bash
# Every peer comparison of issue 17 in one run, with the per-round figures
# and a chart each (make bench-peers): the port scan against nmap tuned
# three ways, DNS against NSD, Knot and unbound, HTTP against curl
# --http1.1, forwarding against HAProxy with splicing, nginx's stream module
# and socat, and the echo servers against uvloop and asyncio at 1,000
# connections. Each script interleaves its contenders and takes medians
# (bench/README.md, "Method"); this one writes
# bench/results/{scan,dns,http,forward,echo-peers}.{figures.json,svg} and
# prints each panel's medians and ratios. About 11 minutes on the 2-core
# machines; needs root and the peers (apt-get install nmap dnsperf nsd knot
# unbound curl haproxy nginx-light libnginx-mod-stream socat python3-uvloop).
#
#   bench/peers.sh [rounds, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
start=$(date +%s)
step() { printf '\n######## %s (%ds)\n' "$*" "$(( $(date +%s) - start ))" >&2; }
step "scan"
bench/scan.sh "$rounds"
step "dns"
bench/dns.sh "$rounds" 5
step "http"
bench/http.sh 4 500
step "forward"
bench/sockets.sh -rounds "$rounds" -gib 2 -only forward -contenders netkit,netkit-no-splice,haproxy-splice,nginx-stream,socat-b131072 \
	-json bench/results/forward.json -figures bench/results/forward.figures.json
step "echo"
bench/echo.sh -rounds "$rounds" -duration 3s -conns 1000 -payloads 64 -idle 0 \
	-servers goroutine,eventloop,uvloop,uvloop-streams,asyncio \
	-out bin/echo-peers -figures bench/results/echo-peers.figures.json
step "charts"
go run ./bench/chart bench/results/{scan,dns,http,forward,echo-peers}.figures.json | tee bench/results/peers.txt
step "done"
