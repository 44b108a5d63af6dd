#!/usr/bin/env python3
"""labserve.py: the lab's small servers that nginx-light cannot be.

  tcp HOST PORT       plain TCP listener (WhatsApp's 5222): accepts, answers
                      one line, keeps the connection until the peer closes.
  blockpage HOST PORT the censor's transparent HTTP proxy: answers every
                      request with 403 and a block page.
  dnsecho HOST PORT   an authoritative DNS server (UDP) that answers every A
                      query with the address the query came from: looked up
                      through a resolver, it tells the resolver's address.

Stdlib only. Never connects anywhere: it only accepts.
"""
import asyncio
import socket
import sys

BACKLOG = 1024
BLOCK_PAGE = (b"<html><head><title>Access denied</title></head><body>"
              b"<h1>LAB-BLOCKPAGE</h1><p>Access to this site is blocked by "
              b"order of the lab censor.</p></body></html>\n")


async def tcp_client(reader, writer):
    try:
        writer.write(b"lab-tcp-ok\n")
        await writer.drain()
        while await reader.read(4096):
            pass
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def blockpage_client(reader, writer):
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1].strip() or 0)
        if length:
            await asyncio.wait_for(reader.readexactly(min(length, 1 << 20)), 10)
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\n"
                     b"Content-Length: " + str(len(BLOCK_PAGE)).encode() +
                     b"\r\nConnection: close\r\n\r\n" + BLOCK_PAGE)
        await writer.drain()
    except (asyncio.TimeoutError, asyncio.IncompleteReadError,
            asyncio.LimitOverrunError, ConnectionError, OSError, ValueError):
        pass
    finally:
        writer.close()


class DnsEcho(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        # header, one question (uncompressed name, type, class); anything
        # else is dropped.
        if len(data) < 17:
            return
        i = 12
        while i < len(data) and data[i] != 0:
            i += 1 + data[i]
        if i + 5 > len(data):
            return
        question = data[12:i + 5]
        qtype = int.from_bytes(data[i + 1:i + 3], "big")
        try:
            packed = socket.inet_aton(addr[0])
        except OSError:
            packed = None
        answer = b""
        if qtype == 1 and packed:
            answer = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x00\x00\x04" + packed
        flags = 0x8400 | (int.from_bytes(data[2:4], "big") & 0x0100)  # QR AA, RD copied
        header = data[:2] + flags.to_bytes(2, "big") + b"\x00\x01" + \
            (1 if answer else 0).to_bytes(2, "big") + b"\x00\x00\x00\x00"
        self.transport.sendto(header + question + answer, addr)


async def serve(kind, host, port):
    if kind == "dnsecho":
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(DnsEcho, local_addr=(host, port))
        await asyncio.Event().wait()
        return
    handler = tcp_client if kind == "tcp" else blockpage_client
    server = await asyncio.start_server(handler, host, port, backlog=BACKLOG,
                                        reuse_address=True)
    async with server:
        await server.serve_forever()


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("tcp", "blockpage", "dnsecho"):
        sys.exit("usage: labserve.py tcp|blockpage|dnsecho HOST PORT")
    asyncio.run(serve(sys.argv[1], sys.argv[2], int(sys.argv[3])))


if __name__ == "__main__":
    main()
