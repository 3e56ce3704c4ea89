#!/usr/bin/env bash
# netkit ssh, sftp and ftp against OpenSSH, lftp and curl, inside a network
# namespace of its own (so sshd and vsftpd can take fixed ports):
#  sftp:     a file from sshd, netkit sftp get against OpenSSH sftp and scp,
#            on loopback and through netkit impair at 50 ms RTT;
#  ftp:      a file from vsftpd, netkit ftp get (-n 4) against lftp get,
#            lftp pget -n 4 and curl;
#  parallel: `true` on 20 sshd ports, netkit ssh --parallel 20 against
#            ssh one by one and xargs -P 20 ssh.
# Client CPU (children included) and wall time, medians of interleaved
# rounds. Needs root.
#
#   bench/remote.sh [runs, default 5] [MiB, default 1024] [sftp|ftp|parallel|all]
set -euo pipefail
cd "$(dirname "$0")/.."
for p in sftp scp lftp curl vsftpd; do
	command -v $p >/dev/null || [ -x /usr/sbin/$p ] || { echo "$p is needed (apt-get install openssh-server openssh-client lftp curl vsftpd)" >&2; exit 1; }
done
make -s build
ns="nkremote-$$"
ip netns add "$ns"
trap 'ip netns pids "$ns" | xargs -r kill; sleep 0.5; ip netns del "$ns"' EXIT
ip netns exec "$ns" ip link set lo up
mkdir -p bench/results
ip netns exec "$ns" /usr/bin/python3 bench/remotebench.py "${1:-5}" "${2:-1024}" "${3:-all}" | tee bench/results/remote-${3:-all}.txt
