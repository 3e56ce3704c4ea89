#!/usr/bin/env bash
# netkit mail against swaks and mbsync, inside a network namespace of its
# own:
#  send:  messages of 10 KiB to netkit mail serve, netkit mail send
#         --count N on one connection against swaks run once per message
#         (as a script would use it): wall time and CPU per message (the
#         client's, from wait4, and the server's, from /proc);
#  fetch: 5,000 messages of 10 KiB from Dovecot over IMAP into a Maildir,
#         netkit mail fetch --all against mbsync (isync): wall and CPU.
# Medians of interleaved rounds.
#
#   bench/mail.sh [runs, default 5] [messages, default 1000] [send|fetch|all]
set -euo pipefail
cd "$(dirname "$0")/.."
for p in swaks mbsync dovecot; do
	command -v $p >/dev/null || { echo "$p is needed (apt-get install swaks isync dovecot-imapd)" >&2; exit 1; }
done
make -s build
ns="nkmail-$$"
ip netns add "$ns"
trap 'ip netns pids "$ns" | xargs -r kill; sleep 0.5; ip netns del "$ns"' EXIT
ip netns exec "$ns" ip link set lo up
mkdir -p bench/results
ip netns exec "$ns" python3 bench/mailbench.py "${1:-5}" "${2:-1000}" "${3:-all}" | tee bench/results/mail-${3:-all}.txt
