"""Driver for bench/capture.sh: runs inside the namespace it made.

iperf3 -c 127.0.0.1 -t SECONDS on the namespace's loopback while netkit
capture and tcpdump (each with a 32 MiB ring, writing to /dev/null) take
every packet; interleaved rounds, medians: the packets each captured and
the kernel dropped, as each prints at the end, and each capturer's CPU
from /proc over the run.
"""
import os, re, signal, statistics, subprocess, sys, time

runs, secs = int(sys.argv[1]), int(sys.argv[2])
tick = os.sysconf("SC_CLK_TCK")

def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick

tools = {
    "netkit capture": ["bin/netkit", "capture", "-i", "lo", "-w", "/dev/null"],
    "tcpdump -B 32768": ["tcpdump", "-i", "lo", "-n", "-B", "32768", "-w", "/dev/null"],
}
srv = subprocess.Popen(["iperf3", "-s"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(0.5)
res = {k: [] for k in tools}
order = list(tools)
for i in range(runs):
    for k in order[i % 2:] + order[:i % 2]:
        p = subprocess.Popen(tools[k], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1)
        c0 = cpu(p.pid)
        out = subprocess.run(["iperf3", "-c", "127.0.0.1", "-t", str(secs), "-J"], capture_output=True, text=True).stdout
        c1 = cpu(p.pid)
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        err = p.communicate(timeout=20)[1].decode()
        num = lambda what: int(re.search(r"(\d+) packets? " + what, err).group(1))
        gbps = float(re.search(r'"sum_received":\s*\{[^}]*"bits_per_second":\s*([\d.e+]+)', out, re.S).group(1)) / 1e9
        res[k].append((num("captured"), num(r"dropped by (?:the )?kernel"), c1 - c0, gbps))
srv.terminate()
med = lambda xs, j: statistics.median(x[j] for x in xs)
print(f"== iperf3 for {secs} s on loopback, captured whole; medians of {runs} interleaved rounds")
print(f"{'capturer':>18} {'captured':>10} {'dropped':>9} {'drop %':>7} {'CPU s':>7} {'us/packet':>10} {'iperf3 Gbit/s':>14}")
for k in res:
    c, d, s, g = med(res[k], 0), med(res[k], 1), med(res[k], 2), med(res[k], 3)
    print(f"{k:>18} {c:10.0f} {d:9.0f} {100 * d / max(c + d, 1):7.2f} {s:7.2f} {s / max(c, 1) * 1e6:10.2f} {g:14.1f}")
