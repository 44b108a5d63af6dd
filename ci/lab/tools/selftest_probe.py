#!/usr/bin/env python3
"""selftest_probe.py — the client/server halves of selftest.sh's checks.

  dns SERVER NAME WAIT_S       send one A query, print every answer that
                               arrives within WAIT_S: "ms ip_ttl src rcode A,..."
  echo ADDR PORT               UDP echo server (runs until killed)
  tls ADDR PORT CERT KEY       TLS server, a thread per connection, so a
                               stalled (censored) handshake blocks no one
  udp ADDR PORT COUNT RATE     send COUNT numbered datagrams at RATE/s to an
                               echo server; print "key=value" statistics of
                               the round trips (loss, reordering, RTT)

Only ever talks to the addresses it is given; selftest.sh gives it lab
addresses inside its own namespaces.
"""
import random
import select
import socket
import statistics
import struct
import sys
import time

IP_RECVTTL = 12  # linux/in.h; not exported by every Python build
IP_TTL = 2


def skip_name(msg, at):
    while True:
        length = msg[at]
        if length == 0:
            return at + 1
        if length & 0xC0 == 0xC0:
            return at + 2
        at += 1 + length


def dns(server, name, wait):
    wait = float(wait)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
    qid = random.randrange(65536)
    qname = b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0"
    query = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", 1, 1)
    start = time.monotonic()
    s.sendto(query, (server, 53))
    deadline = start + wait
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            msg, ancdata, _, src = s.recvmsg(4096, socket.CMSG_SPACE(4))
        except socket.timeout:
            break
        elapsed_ms = (time.monotonic() - start) * 1000
        ttl = -1
        for level, kind, data in ancdata:
            if level == socket.IPPROTO_IP and kind == IP_TTL:
                ttl = struct.unpack("i", data[:4])[0]
        rid, flags, qd, an = struct.unpack(">HHHH", msg[:8])
        if rid != qid:
            print(f"{elapsed_ms:.1f} {ttl} {src[0]} wrong-id -", flush=True)
            continue
        at = 12
        for _ in range(qd):
            at = skip_name(msg, at) + 4
        addresses = []
        for _ in range(an):
            at = skip_name(msg, at)
            rtype, _, _, rdlen = struct.unpack(">HHIH", msg[at:at + 10])
            at += 10
            if rtype == 1 and rdlen == 4:
                addresses.append(socket.inet_ntoa(msg[at:at + 4]))
            at += rdlen
        print(f"{elapsed_ms:.1f} {ttl} {src[0]} {flags & 0xF} {','.join(addresses) or '-'}", flush=True)


def echo(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((addr, int(port)))
    while True:
        data, peer = s.recvfrom(2048)
        s.sendto(data, peer)


def tls(addr, port, cert, key):
    import ssl
    import threading
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = socket.create_server((addr, int(port)), backlog=128)

    def serve(conn):
        conn.settimeout(30)
        try:
            with context.wrap_socket(conn, server_side=True) as tls_conn:
                while tls_conn.recv(4096):
                    pass
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def udp(addr, port, count, rate):
    count, rate = int(count), float(rate)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.connect((addr, int(port)))
    s.setblocking(False)
    rtts, highest, reordered, received = [], -1, 0, set()
    start = time.monotonic()
    sent = 0
    last_activity = start

    def drain():
        nonlocal highest, reordered, last_activity
        while True:
            try:
                data = s.recv(2048)
            except BlockingIOError:
                return
            seq, sent_at = struct.unpack(">Id", data[:12])
            now = time.monotonic()
            last_activity = now
            rtts.append((now - sent_at) * 1000)
            received.add(seq)
            if seq < highest:
                reordered += 1
            highest = max(highest, seq)

    while sent < count or (time.monotonic() - last_activity < 1.0 and len(received) < count):
        now = time.monotonic()
        # Send everything that is due: pacing in small bursts keeps the rate
        # even on a loaded machine.
        while sent < count and start + sent / rate <= now:
            s.send(struct.pack(">Id", sent, time.monotonic()) + b"x" * 88)
            sent += 1
            last_activity = time.monotonic()
        next_send = start + sent / rate if sent < count else now + 0.05
        select.select([s], [], [], max(0.0, min(next_send - time.monotonic(), 0.05)))
        drain()
    elapsed = time.monotonic() - start
    rtts.sort()
    p = lambda q: rtts[min(len(rtts) - 1, int(q * len(rtts)))] if rtts else -1
    print(f"sent={sent} received={len(received)} lost={count - len(received)} reordered={reordered} "
          f"rate={sent / elapsed:.0f} rtt_min={p(0):.2f} rtt_median={p(0.5):.2f} "
          f"rtt_p99={p(0.99):.2f} rtt_max={p(1):.2f}")


if __name__ == "__main__":
    {"dns": dns, "echo": echo, "tls": tls, "udp": udp}[sys.argv[1]](*sys.argv[2:])
