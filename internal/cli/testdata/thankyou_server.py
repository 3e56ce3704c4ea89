# The tutorials' first server, as a Python socket program: it thanks each
# client for connecting and closes. It binds a free port and prints it.
import socket
import sys

s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(5)
print(s.getsockname()[1], flush=True)
for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 1):
    c, addr = s.accept()
    c.send(b"Thank you for connecting\n")
    c.close()
