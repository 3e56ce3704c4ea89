"""Driver for bench/mail.sh: runs inside the namespace it made."""
import os, resource, shutil, statistics, subprocess, sys, tempfile, time

runs, msgs = int(sys.argv[1]), int(sys.argv[2])
swaks_msgs = max(msgs // 5, 1)  # swaks forks perl per message: a fifth of the count, per message figures
d = tempfile.mkdtemp(prefix="nkmail")
body = f"{d}/body.txt"
with open(body, "w") as f:
    line = "The quick brown fox jumps over the lazy dog, again and again.\n"
    f.write(line * (10240 // len(line)))
srv = subprocess.Popen(["bin/netkit", "mail", "serve", "--maildir", f"{d}/md", "--smtp", "127.0.0.1:25", "--pop3", "127.0.0.1:110"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(0.5)

def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime

def netkit():
    subprocess.run(["bin/netkit", "mail", "send", "--server", "127.0.0.1:25", "--no-tls", "--from", "a@example.org",
                    "--to", "b@example.org", "--subject", "bench", "--body", "@" + body, "--count", str(msgs)],
                   check=True, stdout=subprocess.DEVNULL)
    return msgs

def swaks():
    for _ in range(swaks_msgs):
        subprocess.run(["swaks", "--server", "127.0.0.1", "--port", "25", "--from", "a@example.org", "--to", "b@example.org",
                        "--header", "Subject: bench", "--body", "@" + body, "--silent", "2"], check=True, stdout=subprocess.DEVNULL)
    return swaks_msgs

res = {"netkit mail send --count": [], "swaks, once a message": []}
fns = {"netkit mail send --count": netkit, "swaks, once a message": swaks}
order = list(fns)
for i in range(runs):
    for k in order[i % 2:] + order[:i % 2]:
        c0, s0, t0 = children_cpu(), cpu(srv.pid), time.perf_counter()
        n = fns[k]()
        c1, s1, t1 = children_cpu(), cpu(srv.pid), time.perf_counter()
        res[k].append(((t1 - t0) / n * 1e3, (c1 - c0) / n * 1e3, (s1 - s0) / n * 1e3))
srv.terminate()
srv.wait()
stored = len(os.listdir(f"{d}/md/new"))
med = lambda xs, j: statistics.median(x[j] for x in xs)
print(f"== {msgs} messages of 10 KiB to netkit mail serve (swaks: {swaks_msgs} a round); medians of {runs} interleaved rounds; {stored} messages stored in all")
print(f"{'client':>26} {'wall ms/msg':>12} {'client CPU ms/msg':>18} {'server CPU ms/msg':>18} {'wall ratio x/netkit':>20}")
base = med(res["netkit mail send --count"], 0)
for k in res:
    print(f"{k:>26} {med(res[k], 0):12.3f} {med(res[k], 1):18.3f} {med(res[k], 2):18.3f} {med(res[k], 0) / base:20.1f}")
shutil.rmtree(d)
