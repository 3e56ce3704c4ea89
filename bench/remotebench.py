"""Driver for bench/remote.sh: runs inside the namespace it made.

sftp:     a file from OpenSSH's sshd: netkit sftp get against OpenSSH's
          sftp and scp (both on the SFTP protocol; scp -O on the old one),
          on loopback and through netkit impair at 50 ms RTT;
ftp:      a file from vsftpd: netkit ftp get (and -n 4) against lftp's
          get (and pget -n 4) and curl;
parallel: `true` on 20 sshd ports: netkit ssh --parallel 20 against ssh
          one host after another, and against xargs -P 20 ssh.
The client's CPU (with its children: ssh under sftp and scp) from
rusage, wall time beside it; medians of interleaved rounds.
"""
import os, resource, shutil, statistics, subprocess, sys, tempfile, time

runs, mib = int(sys.argv[1]), int(sys.argv[2])
part = sys.argv[3] if len(sys.argv) > 3 else "all"
nk = os.path.abspath("bin/netkit")
d = tempfile.mkdtemp(prefix="nkremote")
os.chmod(d, 0o755)
CIPHER = "aes128-gcm@openssh.com"  # what x/crypto offers first: the same cipher for every contender

def run(args, **kw):
    r = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(args)}: exit {r.returncode}\n{r.stderr.decode()[-2000:]}")

def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime

def measure(fns, check, before=lambda k: None):
    res = {k: [] for k in fns}
    order = list(fns)
    for i in range(runs):
        for k in order[i % 2:] + order[:i % 2]:
            before(k)
            c0, t0 = children_cpu(), time.perf_counter()
            fns[k]()
            c1, t1 = children_cpu(), time.perf_counter()
            check(k)
            res[k].append((t1 - t0, c1 - c0))
    return res

med = lambda xs, j: statistics.median(x[j] for x in xs)

def table(title, res, size_mib=None):
    print(title)
    base = list(res)[0]
    if size_mib:
        print(f"{'client':>34} {'MiB/s':>8} {'wall s':>8} {'CPU s':>7} {'CPU s/GiB':>10} {'goodput x/netkit':>17} {'CPU x/netkit':>13}")
    else:
        print(f"{'client':>34} {'wall s':>8} {'CPU s':>7} {'wall x/netkit':>14} {'CPU x/netkit':>13}")
    for k in res:
        w, c = med(res[k], 0), med(res[k], 1)
        bw, bc = med(res[base], 0), med(res[base], 1)
        if size_mib:
            print(f"{k:>34} {size_mib / w:8.1f} {w:8.3f} {c:7.3f} {c / size_mib * 1024:10.3f} {bw / w:17.2f} {c / bc:13.2f}")
        else:
            print(f"{k:>34} {w:8.3f} {c:7.3f} {w / bw:14.2f} {c / bc:13.2f}")
    sys.stdout.flush()

def sshd(ports, proxied=()):
    """sshd on ports; proxied are ports of proxies in front of it, for known_hosts."""
    for f in ("host", "host.pub", "id", "id.pub"):
        if os.path.exists(f"{d}/{f}"):
            os.remove(f"{d}/{f}")
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{d}/host"])
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{d}/id"])
    shutil.copy(f"{d}/id.pub", f"{d}/authorized_keys")
    os.makedirs("/run/sshd", exist_ok=True)
    # sshd takes at most 16 listening sockets: one process per 10 ports.
    procs = []
    for g in range(0, len(ports), 10):
        conf = f"{d}/sshd_config{g}"
        open(conf, "w").write("".join(f"Port {p}\n" for p in ports[g:g + 10]) + f"""ListenAddress 127.0.0.1
HostKey {d}/host
AuthorizedKeysFile {d}/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
Subsystem sftp internal-sftp
MaxStartups 100:30:200
PidFile {d}/sshd{g}.pid
""")
        log = open(f"{d}/sshd{g}.log", "w")
        procs.append(subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", conf], stdout=subprocess.DEVNULL, stderr=log))
    key = open(f"{d}/host.pub").read().split()
    with open(f"{d}/known_hosts", "w") as f:
        for p in list(ports) + list(proxied):
            host = "127.0.0.1" if p == 22 else f"[127.0.0.1]:{p}"
            f.write(f"{host} {key[0]} {key[1]}\n")
    open(f"{d}/ssh_config", "w").write(f"""Host box
  HostName 127.0.0.1
  User root
  IdentityFile {d}/id
  UserKnownHostsFile {d}/known_hosts
  StrictHostKeyChecking yes
  Ciphers {CIPHER}
  BatchMode yes
  Compression no
""")
    time.sleep(0.5)
    for g, p in enumerate(procs):
        if p.poll() is not None:
            raise SystemExit("sshd exited: " + open(f"{d}/sshd{g * 10}.log").read())
    return procs

def sftp_part():
    srv = sshd([22, 2222], proxied=[2223])
    impair = subprocess.Popen([nk, "impair", "--listen", "tcp://127.0.0.1:2223", "--to", "tcp://127.0.0.1:2222", "--delay", "25ms"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    cfg = f"{d}/ssh_config"
    for name, port, size in (("loopback", 22, mib), ("netkit impair --delay 25ms (50 ms RTT)", 2223, max(mib // 16, 16))):
        big = f"{d}/big-{port}"
        run(["dd", "if=/dev/urandom", f"of={big}", "bs=1M", f"count={size}", "status=none"])
        out = f"{d}/out"
        fns = {
            "netkit sftp get": lambda: run([nk, "sftp", "get", "-F", cfg, "-P", str(port), "--no-agent", f"box:{big}", out]),
            "netkit sftp get -B 131072": lambda: run([nk, "sftp", "get", "-B", "131072", "-F", cfg, "-P", str(port), "--no-agent", f"box:{big}", out]),
            "OpenSSH sftp (64 requests)": lambda: run(["sftp", "-q", "-F", cfg, "-P", str(port), f"box:{big}", out]),
            "OpenSSH sftp -B 131072": lambda: run(["sftp", "-q", "-B", "131072", "-F", cfg, "-P", str(port), f"box:{big}", out]),
            "OpenSSH scp (SFTP protocol)": lambda: run(["scp", "-q", "-F", cfg, "-P", str(port), f"box:{big}", out]),
            "OpenSSH scp -O (scp protocol)": lambda: run(["scp", "-O", "-q", "-F", cfg, "-P", str(port), f"box:{big}", out]),
        }
        def check(k):
            if os.path.getsize(out) != size << 20:
                raise SystemExit(f"{k}: {os.path.getsize(out)} bytes, not {size << 20}")
            os.remove(out)
        res = measure(fns, check)
        table(f"== sftp: {size} MiB from OpenSSH sshd over {name}, cipher {CIPHER}; medians of {runs} interleaved rounds", res, size)
        os.remove(big)
    impair.terminate()
    for p in srv:
        p.terminate()

def ftp_part():
    root = f"{d}/ftproot"
    os.makedirs(root)
    big = f"{root}/big"
    run(["dd", "if=/dev/urandom", f"of={big}", "bs=1M", f"count={mib}", "status=none"])
    os.makedirs("/var/run/vsftpd/empty", exist_ok=True)
    conf = f"{d}/vsftpd.conf"
    open(conf, "w").write(f"""listen=YES
listen_address=127.0.0.1
listen_port=21
anonymous_enable=YES
no_anon_password=YES
anon_root={root}
local_enable=NO
write_enable=NO
seccomp_sandbox=NO
secure_chroot_dir=/var/run/vsftpd/empty
xferlog_enable=NO
background=NO
""")
    srv = subprocess.Popen(["/usr/sbin/vsftpd", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    out = f"{d}/out"
    fns = {
        "netkit ftp get": lambda: run([nk, "ftp", "get", "ftp://127.0.0.1/big", out]),
        "netkit ftp get -n 4": lambda: run([nk, "ftp", "get", "-n", "4", "ftp://127.0.0.1/big", out]),
        "lftp get": lambda: run(["lftp", "-c", f"set ftp:ssl-allow no; open -u anonymous,x 127.0.0.1; get big -o {out}"]),
        "lftp pget -n 4": lambda: run(["lftp", "-c", f"set ftp:ssl-allow no; open -u anonymous,x 127.0.0.1; pget -n 4 big -o {out}"]),
        "curl": lambda: run(["curl", "-sS", "-o", out, "ftp://127.0.0.1/big"]),
    }
    def check(k):
        if os.path.getsize(out) != mib << 20:
            raise SystemExit(f"{k}: {os.path.getsize(out)} bytes, not {mib << 20}")
        os.remove(out)
    res = measure(fns, check)
    srv.terminate()
    table(f"== ftp: {mib} MiB from vsftpd on loopback; medians of {runs} interleaved rounds", res, mib)

def parallel_part(n=20):
    # root's login shell here is bash, which reads a .bashrc (pyenv's
    # set-up: 0.75 s of CPU) when sshd starts it: the commands run as a
    # user whose shell is /bin/sh, so that the figure is ssh's and not
    # bash's.
    if subprocess.run(["id", "nkbench"], capture_output=True).returncode != 0:
        run(["useradd", "--system", "--no-create-home", "--shell", "/bin/sh", "nkbench"])
        run(["usermod", "-p", "*", "nkbench"])  # not locked: sshd without PAM refuses "!"
    ports = list(range(2201, 2201 + n))
    srv = sshd(ports)
    cfg0 = open(f"{d}/ssh_config").read()
    open(f"{d}/ssh_config", "w").write(cfg0.replace("User root", "User nkbench"))
    cfg = f"{d}/ssh_config"
    hosts = f"{d}/hosts"
    open(hosts, "w").write("".join(f"box:{p}\n" for p in ports))
    def one_by_one():
        for p in ports:
            run(["ssh", "-F", cfg, "-p", str(p), "box", "true"])
    fns = {
        f"netkit ssh --hosts ({n}) --parallel {n}": lambda: run([nk, "ssh", "-F", cfg, "--no-agent", "--hosts", hosts, "--parallel", str(n), "--", "true"]),
        "netkit ssh --hosts (20) --parallel 4": lambda: run([nk, "ssh", "-F", cfg, "--no-agent", "--hosts", hosts, "--parallel", "4", "--", "true"]),
        "ssh, one host after another": one_by_one,
        f"xargs -P {n} ssh": lambda: run(["sh", "-c", f"xargs -P {n} -I@ ssh -F {cfg} -p @ box true < {d}/ports"]),
    }
    open(f"{d}/ports", "w").write("".join(f"{p}\n" for p in ports))
    # sshd's own CPU for the logins (its children's, reaped by the
    # listeners): on 2 cores it bounds how fast 20 logins can go at all.
    def sshd_cpu():
        t = 0
        for p in srv:
            f = open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()
            t += sum(int(x) for x in f[11:15])
        return t / os.sysconf("SC_CLK_TCK")
    server = {k: [] for k in fns}
    start = {}
    def settle():
        time.sleep(0.5)  # the last sshd children exit and are reaped
        return sshd_cpu()
    def before(k):
        start[k] = settle()
    def after(k):
        server[k].append(settle() - start[k])
    res = measure(fns, after, before)
    for k in server:
        print(f"sshd CPU for the {n} logins, {k}: median {statistics.median(server[k]):.3f} s")
    for p in srv:
        p.terminate()
    table(f"== `true` on {n} sshd ports; medians of {runs} interleaved rounds", res)

if part in ("all", "sftp"):
    sftp_part()
if part in ("all", "ftp"):
    ftp_part()
if part in ("all", "parallel"):
    parallel_part()
shutil.rmtree(d, ignore_errors=True)
