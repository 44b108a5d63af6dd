#!/usr/bin/env python3
"""labserve.py: the lab's small servers that nginx-light cannot be.

  whatsapp HOST PORT  WhatsApp's chat servers (5222, and 443 of the chat
                      addresses, redirected here): reads the client's first
                      flight and, when it opens with WhatsApp's Noise
                      prologue ("WA" + version bytes), answers the way a
                      server does: a framed ServerHello (3-byte length, a
                      HandshakeMessage protobuf with random ephemeral,
                      static and payload); any other first flight is
                      closed; a client that sends nothing is held.
  wechat HOST PORT    WeChat's long-link servers (80, 443 and 8080 of the
                      long-link addresses, redirected here): reads the
                      client's first flight and, when it opens with an MMTLS
                      handshake record header (16 f1 04), answers the way a
                      server does: a ServerHello record (its cipher suite, a
                      random, a P-256-shaped key share) and three records of
                      random bytes where the encrypted certificate, session
                      ticket and ServerFinished go; any other first flight
                      is closed; a client that sends nothing is held.
  websocket HOST PORT Signal's chat WebSocket endpoint behind the servers'
                      nginx (which terminates TLS on chat.signal.org's lab
                      address and proxies /v1/websocket/ here): answers a
                      WebSocket upgrade (GET with Upgrade: websocket and a
                      Sec-WebSocket-Key) with 101 Switching Protocols and
                      its Sec-WebSocket-Accept, then holds the connection
                      until the client goes; anything else gets 400.
  blockpage HOST PORT the censor's transparent HTTP proxy: answers every
                      request with 403 and a block page.
  dnsecho HOST PORT   an authoritative DNS server (UDP) that answers every A
                      query with the address the query came from: looked up
                      through a resolver, it tells the resolver's address.

Stdlib only. Never connects anywhere: it only accepts.
"""
import asyncio
import base64
import hashlib
import os
import socket
import sys

BACKLOG = 1024
BLOCK_PAGE = (b"<html><head><title>Access denied</title></head><body>"
              b"<h1>LAB-BLOCKPAGE</h1><p>Access to this site is blocked by "
              b"order of the lab censor.</p></body></html>\n")


def whatsapp_server_hello():
    """A frame shaped like WhatsApp's ServerHello: the bytes are random (the
    probe only judges that something came back)."""
    def field(number, data):
        n, length = len(data), b""
        while True:
            length += bytes([(n & 0x7f) | (0x80 if n > 0x7f else 0)])
            n >>= 7
            if not n:
                break
        return bytes([number << 3 | 2]) + length + data
    hello = field(1, os.urandom(32)) + field(2, os.urandom(48)) + field(3, os.urandom(128))
    message = field(3, hello)  # HandshakeMessage.serverHello
    return len(message).to_bytes(3, "big") + message


async def answer_first_flight(reader, writer, opening, answer):
    """An app server's first reply: when the client's first flight starts
    with `opening`, writes `answer()` and holds the connection until the
    client goes; any other first flight is closed."""
    try:
        first = await reader.read(4096)
        if first.startswith(opening):
            writer.write(answer())
            await writer.drain()
            while await reader.read(4096):
                pass
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def whatsapp_client(reader, writer):
    await answer_first_flight(reader, writer, b"WA", whatsapp_server_hello)


# MMTLS's record header: handshake (0x16), version 0xf104
# (tests_catalog/wechat.json, exchange wechat_mmtls).
MMTLS_HANDSHAKE = b"\x16\xf1\x04"


def mmtls_record(body):
    return MMTLS_HANDSHAKE + len(body).to_bytes(2, "big") + body


def wechat_server_hello():
    """Records shaped like an MMTLS server's first flight: the values are
    random (the probe only judges that something came back)."""
    key_share = (b"\x00\x11" + (1).to_bytes(4, "big") + (65).to_bytes(2, "big") +
                 b"\x04" + os.urandom(64))
    extensions = b"\x01" + len(key_share).to_bytes(4, "big") + key_share
    hello = (b"\x02\x04\xf1" + b"\xc0\x2b" + os.urandom(32) +
             len(extensions).to_bytes(4, "big") + extensions)
    hello = len(hello).to_bytes(4, "big") + hello
    # Encrypted certificate, new session ticket and ServerFinished.
    return mmtls_record(hello) + b"".join(mmtls_record(os.urandom(n)) for n in (94, 293, 55))


async def wechat_client(reader, writer):
    await answer_first_flight(reader, writer, MMTLS_HANDSHAKE, wechat_server_hello)


# RFC 6455 1.3: the accept value is base64(SHA-1(key + this GUID)).
WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


async def websocket_client(reader, writer):
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        lines = head.split(b"\r\n")
        headers = {}
        for line in lines[1:]:
            if b":" in line:
                name, value = line.split(b":", 1)
                headers[name.strip().lower()] = value.strip()
        key = headers.get(b"sec-websocket-key", b"")
        if (lines[0].startswith(b"GET ") and headers.get(b"upgrade", b"").lower() == b"websocket"
                and len(base64.b64decode(key + b"==", validate=False)) >= 16):
            accept = base64.b64encode(hashlib.sha1(key + WEBSOCKET_GUID).digest())
            writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
            await writer.drain()
            while await reader.read(4096):
                pass
        else:
            writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
    except (asyncio.TimeoutError, asyncio.IncompleteReadError,
            asyncio.LimitOverrunError, ConnectionError, OSError, ValueError):
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
    handler = {"whatsapp": whatsapp_client, "wechat": wechat_client, "websocket": websocket_client}.get(kind, blockpage_client)
    # HOST may list several addresses ("0.0.0.0,::": both families).
    server = await asyncio.start_server(handler, host.split(","), port, backlog=BACKLOG,
                                        reuse_address=True)
    async with server:
        await server.serve_forever()


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("whatsapp", "wechat", "websocket", "blockpage", "dnsecho"):
        sys.exit("usage: labserve.py whatsapp|wechat|websocket|blockpage|dnsecho HOST[,HOST] PORT")
    asyncio.run(serve(sys.argv[1], sys.argv[2], int(sys.argv[3])))


if __name__ == "__main__":
    main()
