"""Driver for bench/mail.sh: runs inside the namespace it made."""
import os, resource, shutil, statistics, subprocess, sys, tempfile, time

runs, msgs = int(sys.argv[1]), int(sys.argv[2])
part = sys.argv[3] if len(sys.argv) > 3 else "all"
swaks_msgs = max(msgs // 5, 1)  # swaks forks perl per message: a fifth of the count, per message figures
d = tempfile.mkdtemp(prefix="nkmail")
body = f"{d}/body.txt"
with open(body, "w") as f:
    line = "The quick brown fox jumps over the lazy dog, again and again.\n"
    f.write(line * (10240 // len(line)))
if part == "fetch":
    srv = None
else:
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

def send_part():
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

def fetch_part(n=5000):
    """netkit mail fetch --all against mbsync, from Dovecot's IMAP."""
    home = f"{d}/home/ann"
    for sub in ("new", "cur", "tmp"):
        os.makedirs(f"{home}/Maildir/{sub}", exist_ok=True)
    text = open(body).read()
    for i in range(n):
        with open(f"{home}/Maildir/cur/{1700000000 + i}.M{i}P1.bench:2,S", "w") as f:
            f.write(f"From: a@example.org\nTo: ann@example.org\nSubject: message {i}\nMessage-ID: <{i}@bench>\n\n{text}")
    subprocess.run(["chown", "-R", "65534:65534", f"{d}/home"], check=True)
    os.chmod(d, 0o755)
    os.chmod(f"{d}/home", 0o755)
    open(f"{d}/passwd", "w").write("ann:{PLAIN}pw::::::\n")
    open(f"{d}/dovecot.conf", "w").write(f"""protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={d}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    port = 143
  }}
}}
""")
    dov = subprocess.Popen(["dovecot", "-F", "-c", f"{d}/dovecot.conf"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    env = dict(os.environ, NETKIT_MAIL_PASSWORD="pw")
    def netkit_fetch(i):
        subprocess.run(["bin/netkit", "mail", "fetch", "--server", "imap://ann@127.0.0.1", "--no-tls", "--all", "--out", f"{d}/nk{i}/"],
                       check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return len(os.listdir(f"{d}/nk{i}/new"))
    def mbsync(i):
        conf = f"{d}/mbsync{i}.rc"
        os.makedirs(f"{d}/mb{i}", exist_ok=True)  # mbsync makes the folder, not the store
        open(conf, "w").write(f"""IMAPAccount acct
Host 127.0.0.1
Port 143
User ann
Pass pw
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account acct

MaildirStore local
Path {d}/mb{i}/
Inbox {d}/mb{i}/INBOX

Channel ch
Far :remote:
Near :local:
Patterns INBOX
Sync Pull
Create Near
SyncState *
""")
        subprocess.run(["mbsync", "-c", conf, "-a", "-q"], check=True, stdout=subprocess.DEVNULL)
        return len(os.listdir(f"{d}/mb{i}/INBOX/cur")) + len(os.listdir(f"{d}/mb{i}/INBOX/new"))
    fns = {"netkit mail fetch --all": netkit_fetch, "mbsync (isync)": mbsync}
    res = {k: [] for k in fns}
    got = {}
    order = list(fns)
    # One warm-up of each, so that Dovecot's index exists for both.
    netkit_fetch(99), mbsync(99)
    for i in range(runs):
        for k in order[i % 2:] + order[:i % 2]:
            c0, t0 = children_cpu(), time.perf_counter()
            got[k] = fns[k](i)
            c1, t1 = children_cpu(), time.perf_counter()
            res[k].append((t1 - t0, c1 - c0))
    dov.terminate()
    dov.wait()
    print(f"== fetching {n} messages of 10 KiB from Dovecot over IMAP into a Maildir; medians of {runs} interleaved rounds; messages fetched {got}")
    print(f"{'client':>26} {'wall s':>8} {'client CPU s':>13} {'wall ratio x/netkit':>20} {'CPU ratio x/netkit':>19}")
    base = res["netkit mail fetch --all"]
    for k in res:
        print(f"{k:>26} {med(res[k], 0):8.3f} {med(res[k], 1):13.3f} {med(res[k], 0) / med(base, 0):20.2f} {med(res[k], 1) / med(base, 1):19.2f}")

med = lambda xs, j: statistics.median(x[j] for x in xs)
if part in ("all", "send"):
    send_part()
if part in ("all", "fetch"):
    fetch_part()
shutil.rmtree(d)
