#!/usr/bin/env python3
"""labdns.py: writes the lab resolvers' unbound configuration.

Two unbound instances run in the resolvers namespace: 198.18.3.53 is the
client's (ISP) resolver, the only one the censor's DNS lies are written into;
it also serves DNS over TLS (:853) and DNS over HTTPS (:443, /dns-query)
with the lab CA's "lab-dns" certificate, so its lies show through both;
198.18.3.54 is the control's resolver and always tells the truth, so the
control vantage point never sees censorship. Both answer only the lab's
names (local-data: A the name's lab address, AAAA its IPv6 twin from
hosts6.json) and REFUSE everything else: they never recurse, so no
query ever leaves the lab.

lies: {"name": {"type": "nxdomain"|"refused"|"servfail"|"null"|"bogon"|"deny",
                "ip": "10.10.34.34" (bogon only)}}
"""
import json
import os
import sys

CLIENT_RESOLVER = "198.18.3.53"
CONTROL_RESOLVER = "198.18.3.54"
TTL = 300
# The address SERVFAIL names are forwarded to: lab.sh gives it an
# "unreachable" route in the resolvers namespace, so sending fails at once.
DEAD_UPSTREAM = "198.18.3.99"
DOT_PORT = 853
DOH_PORT = 443
DOH_PATH = "/dns-query"
# The collector operator's resolver-echo name and its authoritative server.
ECHO_NAME = "resolver-echo.lab.vantage"
ECHO_SERVER = "198.18.5.10"

LIE_ZONE_TYPE = {
    "nxdomain": "always_nxdomain",
    "refused": "always_refuse",
    "null": "always_null",
    "deny": "deny",
}


def config_path(rundir, role):
    return os.path.join(rundir, "unbound", f"unbound-{role}.conf")


def write_unbound(rundir, role, lies=None):
    lies = lies or {}
    with open(os.path.join(rundir, "hosts.json")) as f:
        hosts = json.load(f)
    with open(os.path.join(rundir, "hosts6.json")) as f:
        hosts6 = json.load(f)
    d = os.path.join(rundir, "unbound")
    os.makedirs(d, exist_ok=True)
    addr = CLIENT_RESOLVER if role == "client" else CONTROL_RESOLVER
    lines = [
        "server:",
        f"  interface: {addr}",
        "  port: 53",
        "  username: \"\"",
        "  chroot: \"\"",
        f"  directory: \"{d}\"",
        f"  pidfile: \"{d}/unbound-{role}.pid\"",
        f"  logfile: \"{d}/unbound-{role}.log\"",
        "  use-syslog: no",
        "  do-daemonize: yes",
        "  num-threads: 1",
        "  so-reuseport: no",
        "  do-ip6: no",
        "  outgoing-range: 64",
        "  incoming-num-tcp: 64",
        "  verbosity: 1",
        "  access-control: 0.0.0.0/0 refuse",
        "  access-control: 198.18.0.0/15 allow",
        "  access-control: 127.0.0.0/8 allow",
        "  do-not-query-localhost: no",
        "  auto-trust-anchor-file: \"\"",
        "  val-permissive-mode: yes",
        "  module-config: \"iterator\"",
        "  serve-expired: no",
        "  cache-max-negative-ttl: 1",
        "  local-zone: \".\" refuse",
    ]
    key = os.path.join(rundir, "pki", "lab-dns.key")
    if role == "client" and os.path.exists(key):
        lines += [
            f"  interface: {addr}@{DOT_PORT}",
            f"  interface: {addr}@{DOH_PORT}",
            f"  tls-service-key: \"{key}\"",
            f"  tls-service-pem: \"{os.path.join(rundir, 'pki', 'lab-dns.chain.pem')}\"",
            f"  tls-port: {DOT_PORT}",
            f"  https-port: {DOH_PORT}",
            f"  http-endpoint: \"{DOH_PATH}\"",
            "  http-notls-downstream: no",
        ]
    forward_names = []
    for host, ip in sorted(hosts.items()):
        lie = lies.get(host)
        if lie is None:
            # static: the name's other types answer NODATA, not REFUSED.
            lines.append(f"  local-zone: \"{host}.\" static")
            lines.append(f"  local-data: \"{host}. {TTL} IN A {ip}\"")
            if host in hosts6:
                lines.append(f"  local-data: \"{host}. {TTL} IN AAAA {hosts6[host]}\"")
            continue
        kind = lie["type"]
        if kind in LIE_ZONE_TYPE:
            lines.append(f"  local-zone: \"{host}.\" {LIE_ZONE_TYPE[kind]}")
        elif kind == "bogon":
            lines.append(f"  local-zone: \"{host}.\" redirect")
            lines.append(f"  local-data: \"{host}. {TTL} IN A {lie['ip']}\"")
        elif kind == "servfail":
            # transparent overrides the "." refuse zone so the name goes to
            # its forward-zone, whose upstream is dead: SERVFAIL.
            lines.append(f"  local-zone: \"{host}.\" transparent")
            forward_names.append(host)
        else:
            raise ValueError(f"unknown DNS lie type {kind!r} for {host}")
    stubs = []
    if role == "client":
        # The resolver echo (labserve.py dnsecho in the control namespace):
        # the name's answer is the address this resolver queries from.
        lines.append(f"  local-zone: \"{ECHO_NAME}.\" transparent")
        stubs = ["stub-zone:", f"  name: \"{ECHO_NAME}.\"", f"  stub-addr: {ECHO_SERVER}"]
    for host in forward_names:
        lines += ["forward-zone:", f"  name: \"{host}.\"",
                  f"  forward-addr: {DEAD_UPSTREAM}", "  forward-first: no"]
    lines += stubs
    lines += ["remote-control:", "  control-enable: no", ""]
    path = config_path(rundir, role)
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return path


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[2] not in ("client", "control"):
        sys.exit("usage: labdns.py RUNDIR client|control")
    print(write_unbound(sys.argv[1], sys.argv[2]))
