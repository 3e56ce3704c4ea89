# A UDP echo server with socketserver: each datagram goes back to its
# sender. It binds a free port and prints it.
import socketserver


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        sock.sendto(data, self.client_address)


with socketserver.UDPServer(("127.0.0.1", 0), Echo) as srv:
    print(srv.server_address[1], flush=True)
    srv.serve_forever()
