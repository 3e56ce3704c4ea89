# An echo server on uvloop, as a skeptical expert would tune Python:
# asyncio.Protocol (no streams layer) on uvloop's libuv loop, or with
# "streams" the same streams server as asyncio_echo.py on uvloop.
# Debian's python3-uvloop installs for /usr/bin/python3.
import asyncio
import sys

import uvloop


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def streams(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def main(port, mode):
    loop = asyncio.get_running_loop()
    if mode == "streams":
        server = await asyncio.start_server(streams, "127.0.0.1", port, backlog=8192)
    else:
        server = await loop.create_server(Echo, "127.0.0.1", port, backlog=8192)
    async with server:
        await server.serve_forever()


uvloop.install()  # uvloop 0.17 (Debian 12) has no uvloop.run
asyncio.run(main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "protocol"))
