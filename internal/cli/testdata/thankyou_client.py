# The tutorials' client: connect, print what the server says, close.
import socket
import sys

s = socket.socket()
s.connect(("127.0.0.1", int(sys.argv[1])))
data = b""
while True:
    chunk = s.recv(1024)
    if not chunk:
        break
    data += chunk
sys.stdout.write(data.decode())
s.close()
