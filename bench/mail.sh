#!/usr/bin/env bash
# netkit mail against swaks, inside a network namespace of its own:
# messages of 10 KiB to netkit mail serve, netkit mail send --count N on
# one connection against swaks run once per message (as a script would
# use it). Wall time and CPU per message (the client's, from wait4, and
# the server's, from /proc), medians of interleaved rounds.
#
#   bench/mail.sh [runs, default 5] [messages, default 1000]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swaks >/dev/null || { echo "swaks is needed (apt-get install swaks)" >&2; exit 1; }
make -s build
ns="nkmail-$$"
ip netns add "$ns"
trap 'ip netns pids "$ns" | xargs -r kill; sleep 0.5; ip netns del "$ns"' EXIT
ip netns exec "$ns" ip link set lo up
mkdir -p bench/results
ip netns exec "$ns" python3 bench/mailbench.py "${1:-5}" "${2:-1000}" | tee bench/results/mail.txt
