#!/usr/bin/env python3
"""labserve.py: the lab's small servers that nginx-light cannot be.

  tcp HOST PORT       plain TCP listener (WhatsApp's 5222): accepts, answers
                      one line, keeps the connection until the peer closes.
  blockpage HOST PORT the censor's transparent HTTP proxy: answers every
                      request with 403 and a block page.

Stdlib only. Never connects anywhere: it only accepts.
"""
import asyncio
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


async def serve(kind, host, port):
    handler = tcp_client if kind == "tcp" else blockpage_client
    server = await asyncio.start_server(handler, host, port, backlog=BACKLOG,
                                        reuse_address=True)
    async with server:
        await server.serve_forever()


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("tcp", "blockpage"):
        sys.exit("usage: labserve.py tcp|blockpage HOST PORT")
    asyncio.run(serve(sys.argv[1], sys.argv[2], int(sys.argv[3])))


if __name__ == "__main__":
    main()
