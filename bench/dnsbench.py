"""Driver for bench/dns.sh: runs inside the namespace it made."""
import datetime, json, os, random, re, resource, shutil, statistics, subprocess, sys, tempfile, time

runs, secs = int(sys.argv[1]), int(sys.argv[2])
figures_path = sys.argv[3] if len(sys.argv) > 3 else ""
d = tempfile.mkdtemp(prefix="nkdns")
random.seed(1)
with open(f"{d}/bench.zone", "w") as f:
    f.write("$ORIGIN bench.example.\n$TTL 3600\n@ SOA ns h 1 7200 900 1209600 300\n@ NS ns\nns A 192.0.2.53\n")
    for i in range(1000):
        f.write(f"h{i} A 198.51.100.{i % 250 + 1}\nh{i} AAAA 2001:db8::{i:x}\n")
with open(f"{d}/queries", "w") as f:
    for _ in range(20000):
        r, n = random.random(), random.randrange(1000)
        f.write(f"h{n}.bench.example A\n" if r < .7 else f"h{n}.bench.example AAAA\n" if r < .9 else f"nx{n}.bench.example A\n")

open(f"{d}/nsd.conf", "w").write(f"""server:
  ip-address: 127.0.0.1
  server-count: 1
  username: ""
  chroot: ""
  zonesdir: "{d}"
  database: ""
  pidfile: "{d}/nsd.pid"
  xfrdfile: "{d}/xfrd.state"
  zonelistfile: "{d}/zone.list"
  logfile: "{d}/nsd.log"
  rrl-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: bench.example
  zonefile: bench.zone
""")
common = f"""server:
  num-threads: 1
  username: ""
  chroot: ""
  directory: "{d}"
  pidfile: ""
  use-syslog: no
  logfile: "{d}/unbound-%s.log"
  do-not-query-localhost: no
  access-control: 127.0.0.0/8 allow
  msg-cache-size: 64m
  rrset-cache-size: 64m
  ratelimit: 0
  ip-ratelimit: 0
remote-control:
  control-enable: no
"""
open(f"{d}/unbound-auth.conf", "w").write((common % "auth").replace("server:\n", "server:\n  interface: 127.0.0.3\n", 1) + f"""auth-zone:
  name: bench.example
  zonefile: "{d}/bench.zone"
  for-downstream: yes
  for-upstream: no
""")
open(f"{d}/unbound-cache.conf", "w").write((common % "cache").replace("server:\n", "server:\n  interface: 127.0.0.5\n", 1) + """forward-zone:
  name: "."
  forward-addr: 127.0.0.1
""")

open(f"{d}/knot.conf", "w").write(f"""server:
  listen: 127.0.0.6@53
  rundir: "{d}"
  udp-workers: 1
  tcp-workers: 1
  background-workers: 1
log:
  - target: stderr
    any: error
database:
  storage: "{d}/knot"
zone:
  - domain: bench.example
    file: "{d}/bench.zone"
    journal-content: none
    zonefile-sync: -1
""")

def start(cmd, env=None):
    return subprocess.Popen(["taskset", "-c", "0"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, GOMAXPROCS="1", **(env or {})))

procs = {
    "nsd": start(["nsd", "-d", "-c", f"{d}/nsd.conf"]),
    "netkit": start(["bin/netkit", "dns", "serve", "--listen", "127.0.0.2:53", "--zone", f"{d}/bench.zone"]),
    "unbound": start(["unbound", "-d", "-c", f"{d}/unbound-auth.conf"]),
    "knot": start(["knotd", "-c", f"{d}/knot.conf"]),
    "netkit-cache": start(["bin/netkit", "dns", "serve", "--listen", "127.0.0.4:53", "--forward", "127.0.0.1", "--cache", "100000"]),
    "unbound-cache": start(["unbound", "-d", "-c", f"{d}/unbound-cache.conf"]),
}
addr = {"nsd": "127.0.0.1", "netkit": "127.0.0.2", "unbound": "127.0.0.3", "netkit-cache": "127.0.0.4", "unbound-cache": "127.0.0.5", "knot": "127.0.0.6"}
commands = {
    "nsd": "nsd -d (server-count 1) " + subprocess.run(["nsd", "-v"], capture_output=True, text=True).stderr.split("\n")[0],
    "netkit": "netkit dns serve --zone bench.zone (GOMAXPROCS=1)",
    "unbound": "unbound -d, auth-zone, num-threads 1, " + subprocess.run(["unbound", "-V"], capture_output=True, text=True).stdout.split("\n")[0],
    "knot": "knotd, udp-workers 1, " + subprocess.run(["knotd", "-V"], capture_output=True, text=True).stdout.strip(),
    "netkit-cache": "netkit dns serve --forward nsd --cache 100000 (GOMAXPROCS=1)",
    "unbound-cache": "unbound -d, forward-zone to nsd, num-threads 1",
}
time.sleep(2)

def family(name):
    """The PIDs of a server: NSD forks its server processes."""
    root = procs[name].pid
    pids, todo = [root], [root]
    while todo:
        p = todo.pop()
        try:
            kids = open(f"/proc/{p}/task/{p}/children").read().split()
        except OSError:
            kids = []
        pids += map(int, kids)
        todo += map(int, kids)
    return pids

def cpu(pids):
    t = 0
    for p in pids:
        try:
            f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            t += int(f[11]) + int(f[12])
        except OSError:
            pass
    return t / os.sysconf("SC_CLK_TCK")

MAX_OTHER = 0.25  # cores of other work a round may overlap (bench/internal/proc.MaxOther)

def machine_busy():
    """Every core's busy seconds (/proc/stat: user nice system irq softirq steal)."""
    f = open("/proc/stat").readline().split()
    return sum(int(f[i]) for i in (1, 2, 3, 6, 7, 8)) / os.sysconf("SC_CLK_TCK")

def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime

def perf(name, rate, seconds):
    """One round; run again (at most twice) when other work than the
    server and dnsperf kept more than MAX_OTHER cores busy meanwhile."""
    for attempt in range(3):
        t0, busy0, kids0 = time.monotonic(), machine_busy(), children_cpu()
        r = perf_once(name, rate, seconds)
        ours = r.pop("server_cpu") + children_cpu() - kids0
        r["other"] = max(0.0, (machine_busy() - busy0 - ours) / (time.monotonic() - t0))
        if r["other"] <= MAX_OTHER:
            break
        print(f"{name}: other work kept {r['other']:.2f} cores busy (above {MAX_OTHER}): running the round again", file=sys.stderr)
    return r

def perf_once(name, rate, seconds):
    pids = family(name)
    c0 = cpu(pids)
    args = ["taskset", "-c", "1", "dnsperf", "-s", addr[name], "-d", f"{d}/queries", "-l", str(seconds), "-c", "4"]
    if rate:
        args += ["-Q", str(rate)]
    out = subprocess.run(args, capture_output=True, text=True).stdout
    used = cpu(pids) - c0
    done = int(re.search(r"Queries completed:\s+(\d+)", out).group(1))
    lost = int(re.search(r"Queries lost:\s+(\d+)", out).group(1))
    qps = float(re.search(r"Queries per second:\s+([\d.]+)", out).group(1))
    lat = float(re.search(r"Average Latency \(s\):\s+([\d.]+)", out).group(1))
    return {"qps": qps, "lat_us": lat * 1e6, "cpu_us": used * 1e6 / max(done, 1), "lost": lost, "server_cpu": used}

# Warm the caches and check every server answers.
for name in addr:
    r = perf(name, 0, 2)
    if r["qps"] < 1000:
        sys.exit(f"{name} answered {r['qps']:.0f} queries per second in the warm-up: is it running?")
for name in addr:
    out = subprocess.run(["dig", "+short", "@" + addr[name], "h7.bench.example"], capture_output=True, text=True).stdout.strip()
    if out != "198.51.100.8":
        sys.exit(f"{name} answers h7.bench.example with {out!r}")

groups = [("authoritative", ["netkit", "nsd", "knot", "unbound"], "nsd"), ("cache hits", ["netkit-cache", "unbound-cache"], "unbound-cache")]
panels = []
for rate in (50000, 0):
    results = {n: [] for n in addr}
    for i in range(runs):
        for title, names, _ in groups:
            order = names[i % len(names):] + names[:i % len(names)]
            for n in order:
                results[n].append(perf(n, rate, secs))
    load = f"{rate} queries/s offered" if rate else "as fast as dnsperf sends (-c 4, unthrottled)"
    print(f"\n== {load}; medians of {runs} runs of {secs}s; server on core 0, dnsperf on core 1")
    for title, names, ref in groups:
        print(f"\n{title}:")
        print(f"  {'server':14} {'qps':>9} {'avg lat us':>10} {'cpu us/q':>9} {'lost':>6} {'cpu ratio to ' + ref:>24}")
        refcpu = statistics.median(r["cpu_us"] for r in results[ref])
        for n in names:
            m = {k: statistics.median(r[k] for r in results[n]) for k in ("qps", "lat_us", "cpu_us", "lost")}
            print(f"  {n:14} {m['qps']:9.0f} {m['lat_us']:10.1f} {m['cpu_us']:9.2f} {m['lost']:6.0f} {m['cpu_us'] / refcpu:24.2f}")
        what = f"{title}, {rate:,} queries/s offered" if rate else f"{title}, unthrottled (dnsperf -c 4)"
        for metric, unit, key, lower in (("server CPU per query", "µs", "cpu_us", True), ("queries answered per second", "q/s", "qps", False)):
            if rate and key == "qps":
                continue  # the offered rate: every server keeps up
            panels.append({"title": what, "metric": metric, "unit": unit, "lower_is_better": lower, "reference": ref,
                           "contenders": [{"name": n, "command": commands[n], "rounds": [r[key] for r in results[n]], "other_cores": [r["other"] for r in results[n]]} for n in names]})
for p in procs.values():
    p.terminate()
if figures_path:
    with open(figures_path, "w") as f:
        json.dump({"comparison": os.path.basename(figures_path).removesuffix(".figures.json"),
                   "command": f"bench/dns.sh {runs} {secs}",
                   "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                   "panels": panels}, f, indent=2, ensure_ascii=False)
        f.write("\n")
