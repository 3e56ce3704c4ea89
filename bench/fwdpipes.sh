#!/bin/bash
# forwarder CPU per GiB: perf client -> forward -> perf server, 2 GiB, rounds interleaved
cd /tmp
/tmp/netkit-new4 perf server tcp://127.0.0.1:17200 >/dev/null 2>&1 & ps=$!
sleep 0.3
for r in 1 2 3 4 5; do
 for b in netkit-pre netkit-new4; do
  /tmp/$b forward tcp://127.0.0.1:17201 tcp://127.0.0.1:17200 >/dev/null 2>&1 & f=$!
  sleep 0.2
  t0=$(date +%s.%N)
  /tmp/netkit-new4 perf client 127.0.0.1:17201 -n 2G -i 0 --json > /tmp/fwd.json 2>&1
  t1=$(date +%s.%N)
  read ut st < <(awk '{print $14, $15}' /proc/$f/stat)
  fds=$(ls /proc/$f/fd | wc -l)
  kill -INT $f; wait $f 2>/dev/null
  echo "$b round $r: cpu $(echo "($ut+$st)/100/2" | bc -l | cut -c1-5) s/GiB, wall $(echo "$t1-$t0" | bc | cut -c1-5) s"
 done
done
kill -INT $ps; wait $ps 2>/dev/null
