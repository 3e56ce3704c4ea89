"""Driver for bench/httpserve.sh: runs inside the namespace it made."""
import json, os, re, shutil, statistics, subprocess, sys, tempfile, time

runs = int(sys.argv[1])
d = tempfile.mkdtemp(prefix="nkhttp")
root = f"{d}/root"
os.mkdir(root)
with open(f"{root}/small.bin", "wb") as f:
    f.write(os.urandom(1024))
with open(f"{root}/big.bin", "wb") as f:
    chunk = os.urandom(1 << 20)
    for _ in range(1024):
        f.write(chunk)
for sf in ("on", "off"):
  open(f"{d}/nginx-{sf}.conf", "w").write(f"""
worker_processes 2;
daemon off;
pid {d}/nginx-{sf}.pid;
error_log {d}/nginx-{sf}.err;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile {sf};
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d}; uwsgi_temp_path {d}; scgi_temp_path {d};
    server {{ listen 127.0.0.1:{8003 if sf == "on" else 8004}; root {root}; }}
}}
""")
servers = {
    "netkit": (["bin/netkit", "http", "serve", root, "-l", "127.0.0.1:8001", "--log", "none"], 8001),
    "python": (["python3", "-m", "http.server", "-b", "127.0.0.1", "-d", root, "8002"], 8002),
    "nginx": (["nginx", "-c", f"{d}/nginx-on.conf"], 8003),
    "nginx-nosendfile": (["nginx", "-c", f"{d}/nginx-off.conf"], 8004),
    "netkit-nosendfile": (["bin/netkit", "http", "serve", root, "-l", "127.0.0.1:8005", "--log", "none", "--no-sendfile"], 8005),
}

def tree(pid):
    """pid and its descendants (nginx's workers)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                kids = open(f"/proc/{p}/task/{t}/children").read().split()
                todo += [int(k) for k in kids]
        except OSError:
            pass
    return out

def cpu(pid):
    total = 0.0
    for p in tree(pid):
        try:
            f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            total += (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    return total

procs = {}
for name, (cmd, port) in servers.items():
    procs[name] = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for name, (cmd, port) in servers.items():
    for _ in range(100):
        if subprocess.run(["curl", "-sf", "-o", "/dev/null", f"http://127.0.0.1:{port}/small.bin"]).returncode == 0:
            break
        time.sleep(0.05)
    else:
        sys.exit(f"{name} does not answer on {port}")

def wrk(name):
    port = servers[name][1]
    c0, t0 = cpu(procs[name].pid), time.perf_counter()
    out = subprocess.run(["wrk", "-t2", "-c32", "-d4s", f"http://127.0.0.1:{port}/small.bin"], capture_output=True, text=True).stdout
    c1, t1 = cpu(procs[name].pid), time.perf_counter()
    n = int(re.search(r"(\d+) requests in", out).group(1))
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errs:
        sys.exit(f"{name}: {errs.group(0)}")
    return n / (t1 - t0), (c1 - c0) / n * 1e6

def big(name):
    port = servers[name][1]
    c0 = cpu(procs[name].pid)
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{size_download} %{time_total}", f"http://127.0.0.1:{port}/big.bin"], capture_output=True, text=True).stdout
    c1 = cpu(procs[name].pid)
    size, wall = out.split()
    if int(size) != 1 << 30:
        sys.exit(f"{name}: {size} bytes")
    return (1 << 30) / float(wall) / (1 << 30), c1 - c0

order = list(servers)
small_r = {k: [] for k in order}
big_r = {k: [] for k in order}
for i in range(runs):
    for k in order[i % len(order):] + order[:i % len(order)]:
        if k in ("nginx", "netkit", "python"):
            small_r[k].append(wrk(k))
        big_r[k].append(big(k))

med = lambda xs, j: statistics.median(x[j] for x in xs)
print(f"== 1 KiB file, wrk -t2 -c32 -d4s; medians of {runs} interleaved runs")
print(f"{'server':>8} {'req/s':>9} {'server CPU us/req':>18} {'CPU ratio to netkit':>20}")
base = med(small_r["netkit"], 1)
for k in order:
    if small_r[k]:
        print(f"{k:>8} {med(small_r[k], 0):9.0f} {med(small_r[k], 1):18.1f} {med(small_r[k], 1) / base:20.2f}")
print(f"== 1 GiB file, curl -o /dev/null; medians of {runs}")
print(f"{'server':>18} {'GiB/s':>7} {'server CPU s/GiB':>17} {'throughput ratio netkit/x':>26} {'netkit-nosendfile/x':>20}")
for k in order:
    print(f"{k:>18} {med(big_r[k], 0):7.2f} {med(big_r[k], 1):17.3f} {med(big_r['netkit'], 0) / med(big_r[k], 0):26.2f} {med(big_r['netkit-nosendfile'], 0) / med(big_r[k], 0):20.2f}")

for p in procs.values():
    p.terminate()
for p in procs.values():
    p.wait()

# --jq over a 100 MiB JSON body: netkit http get --jq against curl | jq,
# from netkit's own file server.
items = [{"id": i, "name": f"item {i}", "tags": ["a", "b", "c"], "score": i * 0.5, "nested": {"x": i, "ok": i % 2 == 0}} for i in range(700000)]
with open(f"{root}/big.json", "w") as f:
    json.dump({"items": items}, f)
size = os.path.getsize(f"{root}/big.json")
srv = subprocess.Popen(servers["netkit"][0], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(0.5)
url = "http://127.0.0.1:8001/big.json"
prog = "[.items[] | select(.nested.ok) | .score] | add"
cmds = {
    "netkit --jq": ["bin/netkit", "http", "get", url, "--jq", prog],
    "curl | jq": ["sh", "-c", f"curl -s {url} | jq '{prog}'"],
}
res = {k: [] for k in cmds}
outs = {}
for i in range(runs):
    for k in list(cmds)[i % 2:] + list(cmds)[:i % 2]:
        t0 = time.perf_counter()
        r0 = os.times()
        out = subprocess.run(cmds[k], capture_output=True, text=True)
        r1 = os.times()
        t1 = time.perf_counter()
        if out.returncode:
            sys.exit(f"{k}: {out.stderr}")
        outs[k] = out.stdout.strip()
        res[k].append((t1 - t0, (r1.children_user - r0.children_user) + (r1.children_system - r0.children_system)))
srv.terminate()
srv.wait()
print(f"== --jq '{prog}' over a {size / (1 << 20):.0f} MiB JSON body; medians of {runs}; answers {outs}")
print(f"{'client':>12} {'wall s':>7} {'CPU s':>6} {'wall ratio x/netkit':>20}")
for k in cmds:
    print(f"{k:>12} {med(res[k], 0):7.2f} {med(res[k], 1):6.2f} {med(res[k], 0) / med(res['netkit --jq'], 0):20.2f}")
shutil.rmtree(d)
