"""Driver for bench/snmp.sh: runs inside the namespace it made."""
import os, statistics, subprocess, sys, tempfile, time

runs = int(sys.argv[1])
part = sys.argv[2] if len(sys.argv) > 2 else "all"
d = tempfile.mkdtemp(prefix="nksnmp")
os.mkdir(f"{d}/persist")
env = dict(os.environ, MIBS="", SNMP_PERSISTENT_DIR=f"{d}/persist")
open(f"{d}/snmpd.conf", "w").write("agentAddress udp:127.0.0.1:161\nrocommunity public 127.0.0.1\n")

def start(cmd, log=subprocess.DEVNULL):
    return subprocess.Popen(cmd, stdout=log, stderr=log, env=env)

def wait_answer(port, seconds=10):
    for _ in range(int(seconds / 0.05)):
        if subprocess.run(["snmpget", "-v2c", "-c", "public", "-t", "0.2", "-r", "0", f"127.0.0.1:{port}", ".1.3.6.1.2.1.1.5.0"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env).returncode == 0:
            return
        time.sleep(0.05)
    print(open(f"{d}/snmpd.log").read() if os.path.exists(f"{d}/snmpd.log") else "", file=sys.stderr)
    sys.exit(f"nothing answers on port {port}")

def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

def timed(cmd, want=None):
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, env=env, text=True)
    wall = time.perf_counter() - t
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: {out.stderr}")
    n = sum(1 for line in out.stdout.splitlines() if line.startswith((".", "SNMP", "IF-", "iso", "DISMAN", "IP-", "TCP-", "UDP-", "HOST", "NET-")))
    return wall, n

snmpd = start(["snmpd", "-f", "-Lo", "-C", "-c", f"{d}/snmpd.conf", f"--persistentDir={d}/persist"])
wait_answer(161)
impair = start(["bin/netkit", "impair", "--listen", "udp://127.0.0.1:1610", "--to", "udp://127.0.0.1:161", "--delay", "10ms"])
wait_answer(1610)

if part != "agent": print(f"== walking snmpd's whole tree (.1); medians of {runs} runs (one run of snmpwalk and -Cr10 at 20 ms); wall seconds, bindings, ratio of the best snmpbulkwalk to each")
for name, port in {"agent": (), "loopback": (("loopback", 161),)}.get(part, (("loopback", 161), ("impair, 20 ms RTT", 1610))):
    target = f"127.0.0.1:{port}"
    base = ["-v2c", "-c", "public", "-On", "-t", "2", "-r", "1"]
    contenders = {"netkit": ["bin/netkit", "snmp", "walk", "-n", "--wait", "2s", target, ".1"]}
    for r in (10, 25, 50, 100):
        contenders[f"snmpbulkwalk -Cr{r}"] = ["snmpbulkwalk"] + base + [f"-Cr{r}", target, ".1"]
    contenders["snmpwalk"] = ["snmpwalk"] + base + [target, ".1"]
    walls, counts = {k: [] for k in contenders}, {}
    order = list(contenders)
    slow = {"snmpwalk", "snmpbulkwalk -Cr10"} if port != 161 else set()  # minutes each at 20 ms: once is enough
    for i in range(runs):
        for k in order[i % len(order):] + order[:i % len(order)]:
            if k in slow and walls[k]:
                continue
            w, n = timed(contenders[k])
            walls[k].append(w)
            counts[k] = n
    med = {k: statistics.median(v) for k, v in walls.items()}
    best = min((k for k in med if k.startswith("snmpbulkwalk")), key=med.get)
    print(f"\n{name}:\n  {'walker':22} {'wall s':>8} {'bindings':>9} {'best bulkwalk / this':>21}")
    for k in order:
        print(f"  {k:22} {med[k]:8.3f} {counts[k]:9d} {med[best] / med[k]:21.2f}")
    print(f"  netkit: {med[best] / med['netkit']:.2f}x {best}, {med['snmpwalk'] / med['netkit']:.2f}x snmpwalk")
impair.terminate()

if part in ("walk", "loopback"):
    sys.exit(0)
# 2. 10,000 interfaces (veth pairs: this kernel has no dummy links),
# served by snmpd and by netkit snmp serve.
n = 10000
with open(f"{d}/links", "w") as f:
    for i in range(n // 2):
        f.write(f"link add nka{i} type veth peer name nkb{i}\n")
subprocess.run(["ip", "-batch", f"{d}/links"], check=True)
snmpd.terminate(); snmpd.wait()
snmpd = start(["taskset", "-c", "0", "snmpd", "-f", "-Lo", "-C", "-c", f"{d}/snmpd.conf", f"--persistentDir={d}/persist"], open(f"{d}/snmpd.log", "w"))
netkit = subprocess.Popen(["taskset", "-c", "0", "bin/netkit", "snmp", "serve", "127.0.0.1:1161", "-c", "public"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(env, GOMAXPROCS="1"))
wait_answer(161, 300); wait_answer(1161, 60)
agents = {"netkit": (netkit.pid, 1161), "snmpd": (snmpd.pid, 161)}
res = {k: ([], []) for k in agents}
rows = {}
for i in range(runs):
    for k in (list(agents) if i % 2 == 0 else list(agents)[::-1]):
        pid, port = agents[k]
        c0 = cpu(pid)
        w, cnt = timed(["taskset", "-c", "1", "snmpbulkwalk", "-v2c", "-c", "public", "-On", "-Cr50", "-t", "5", f"127.0.0.1:{port}", ".1.3.6.1.2.1.2.2"])
        res[k][0].append(w); res[k][1].append(cpu(pid) - c0)
        rows[k] = cnt
print(f"\n== snmpbulkwalk -Cr50 of ifTable with {n} interfaces (+ lo); agent on core 0, walker on core 1; medians of {runs}")
print(f"  {'agent':8} {'wall s':>8} {'agent cpu s':>12} {'bindings':>9} {'cpu ratio to snmpd':>19}")
ref = statistics.median(res["snmpd"][1])
for k in agents:
    print(f"  {k:8} {statistics.median(res[k][0]):8.3f} {statistics.median(res[k][1]):12.3f} {rows[k]:9d} {statistics.median(res[k][1]) / ref:19.2f}")
netkit.terminate(); snmpd.terminate()
