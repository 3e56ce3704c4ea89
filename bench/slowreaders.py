import socket, sys, time
port = int(sys.argv[1]); n = int(sys.argv[2]); mb = int(sys.argv[3])
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.setblocking(False)
    socks.append(s)
chunk = b"x" * 65536
sent = [0]*n
deadline = time.time() + 8
while time.time() < deadline:
    progress = False
    for i, s in enumerate(socks):
        if sent[i] >= mb << 20: continue
        try:
            k = s.send(chunk); sent[i] += k; progress = True
        except BlockingIOError:
            pass
    if not progress: time.sleep(0.05)
print("sent MiB per client (median):", sorted(sent)[n//2] / (1<<20))
time.sleep(1)
