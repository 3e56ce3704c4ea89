# An echo server with socketserver.ThreadingTCPServer: a thread per
# connection, the multithreaded contender.
import socketserver
import sys


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(65536)
            if not data:
                break
            self.request.sendall(data)


socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer.daemon_threads = True
socketserver.ThreadingTCPServer.request_queue_size = 4096
with socketserver.ThreadingTCPServer(("127.0.0.1", int(sys.argv[1])), Echo) as srv:
    srv.serve_forever()
