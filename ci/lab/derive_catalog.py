#!/usr/bin/env python3
"""derive_catalog.py: gives every hostname of tests_catalog/*.json a lab
address and writes the lab's copy of the catalog.

Writes into the run directory:
  hosts.json       {"hostname": "198.18.2.x", ...}   (the lab's address plan)
  hosts6.json      {"hostname": "2001:2:0:2::x", ...}  each name's IPv6 twin
                   (twin6: 198.18.N.H is 2001:2:0:N::H), answered as AAAA
  addresses.json   {"149.154.175.50": "198.18.2.x", ...}  address-literal
                   hosts (reached by address, e.g. Telegram's data centres)
                   and the lab address each stands for
  plain_http.json  ["198.18.2.x:443", ...]  lab address:port of every
                   address-literal http endpoint: plain HTTP there, even on 443
  exchanges.json   {"whatsapp_noise": ["198.18.2.x:443", ...], ...}  lab
                   address:port of every endpoint with an application-level
                   exchange, by exchange: a server for that app listens there
                   (signal_websocket: the servers' nginx, TLS on 443, which
                   proxies the upgrade; lab.sh redirects whatsapp_noise only)
  services.json    {"service": ["hostname", ...], ...}
  throughput.json  ["/url/path", ...]  paths that must serve a large body
  catalog/*.json   the catalog with lab networks and the lab CA as pinned CA
                   (only with --with-catalog; needs pki/lab-ca.pem)

Never changes hostnames, features or ports: the probe must run the same plan
in the lab as outside it. An address literal is the one exception: it is
replaced (in host and url) by its lab address, since a real address must
never be on a lab interface; the catalog written is checked to hold no
literal outside the lab's range. Never hands out an address outside
198.18.2.0/24 (IPv4) or 2001:2:0:2::/64 (its IPv6 twins).
"""
import argparse
import ipaddress
import json
import os
import re
import shutil
import sys
import urllib.parse

SERVER_NET = "198.18.2."
# Each catalog file gets its own block of host numbers so that an IP-level
# rule for one service never touches another. Unknown files go after these.
SERVICE_BASE = {"whatsapp": 10, "signal": 40, "wechat": 60, "canary": 100}
NEXT_FREE_BASE = 140
BLOCK_SIZE = 30
# WhatsApp's e1..e12 share addresses like the real ones do (several chat
# names per address); e13..e16 get their own so one endpoint can be blocked
# by IP alone.
WHATSAPP_SHARED = re.compile(r"^e(\d+)\.whatsapp\.net$")
WHATSAPP_NAMES_PER_IP = 4
WHATSAPP_SHARED_LAST = 12


LAB_RANGE = ipaddress.ip_network("198.18.0.0/15")
# Every lab address 198.18.N.H has an IPv6 twin 2001:2:0:N::H (RFC 5180's
# benchmarking range, as 198.18.0.0/15 is RFC 2544's), on the same interface.
# N and H are written with their decimal digits (198.18.5.10 is
# 2001:2:0:5::10), so a twin reads as its IPv4 address; 198.19.x is N=256+x.
LAB_RANGE6 = ipaddress.ip_network("2001:2::/48")


def twin6(ip4):
    """The IPv6 twin of a lab IPv4 address (198.18.N.H -> 2001:2:0:N::H),
    or of a lab IPv4 network (198.18.N.0/24 -> 2001:2:0:N::/64)."""
    addr, _, plen = ip4.partition("/")
    a = ipaddress.ip_address(addr)
    if a.version != 4 or a not in LAB_RANGE:
        raise ValueError(f"{ip4} is not a lab IPv4 address (198.18.0.0/15)")
    b = a.packed
    n = (b[1] - 18) * 256 + b[2]
    six = ipaddress.ip_address(f"2001:2:0:{n}::{b[3]}")
    if plen:
        if plen != "24":
            raise ValueError(f"{ip4}: only /24 lab networks have twins")
        return f"{ipaddress.ip_network(f'{six}/64', strict=False)}"
    return str(six)


def is_address_literal(host):
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def load_catalog(catalog_dir):
    services = []
    for fn in sorted(os.listdir(catalog_dir)):
        if not fn.endswith(".json") or fn.endswith(".schema.json"):
            continue
        with open(os.path.join(catalog_dir, fn)) as f:
            doc = json.load(f)
        if "endpoints" not in doc:
            continue
        services.append((fn, doc))
    if not services:
        sys.exit(f"derive_catalog: no catalog files in {catalog_dir}")
    return services


def plan_addresses(services):
    hosts = {}
    by_service = {}
    next_base = NEXT_FREE_BASE
    for _fn, doc in services:
        name = doc.get("service") or doc.get("test_name")
        base = SERVICE_BASE.get(name)
        if base is None:
            base, next_base = next_base, next_base + BLOCK_SIZE
        slot = 0
        shared_slots = {}
        names = by_service.setdefault(name, [])
        for ep in doc["endpoints"]:
            host = ep["host"].lower().rstrip(".")
            if host in hosts:
                if host not in names:
                    names.append(host)
                continue
            m = WHATSAPP_SHARED.match(host) if name == "whatsapp" else None
            if m and int(m.group(1)) <= WHATSAPP_SHARED_LAST:
                group = (int(m.group(1)) - 1) // WHATSAPP_NAMES_PER_IP
                if group not in shared_slots:
                    shared_slots[group] = slot
                    slot += 1
                number = base + shared_slots[group]
            else:
                number = base + slot
                slot += 1
            if slot > BLOCK_SIZE or number > 250:
                sys.exit(f"derive_catalog: address block of {name} is full")
            hosts[host] = SERVER_NET + str(number)
            names.append(host)
    # Address literals are no names: the resolvers, the PKI and the censor's
    # name-based techniques never see them (addresses.json holds them).
    addresses = {h: ip for h, ip in hosts.items() if is_address_literal(h)}
    hosts = {h: ip for h, ip in hosts.items() if h not in addresses}
    return hosts, addresses, by_service


def plain_http_listeners(services, addresses):
    out = set()
    for _fn, doc in services:
        for ep in doc["endpoints"]:
            host = ep["host"].lower()
            if ep.get("chain") == "http" and host in addresses:
                for port in ep.get("ports", []):
                    out.add(f"{addresses[host]}:{port}")
    return sorted(out)


def exchange_listeners(services, hosts, addresses):
    out = {}
    for _fn, doc in services:
        for ep in doc["endpoints"]:
            if "exchange" not in ep:
                continue
            host = ep["host"].lower()
            ip = hosts.get(host) or addresses.get(host)
            for port in ep.get("ports", []):
                out.setdefault(ep["exchange"], set()).add(f"{ip}:{port}")
    return {name: sorted(v) for name, v in out.items()}


def lab_endpoint(ep, addresses):
    """The endpoint with an address-literal host (and its url) replaced by
    the lab address it stands for."""
    host = ep["host"].lower()
    if host not in addresses:
        return ep
    ep = dict(ep, host=addresses[host])
    if "url" in ep:
        u = urllib.parse.urlsplit(ep["url"])
        netloc = addresses[host] + (f":{u.port}" if u.port else "")
        ep["url"] = urllib.parse.urlunsplit((u.scheme, netloc, u.path, u.query, u.fragment))
    return ep


def check_no_real_address(doc, fn):
    for ep in doc["endpoints"]:
        if is_address_literal(ep["host"]) and ipaddress.ip_address(ep["host"]) not in LAB_RANGE:
            sys.exit(f"derive_catalog: {fn}: {ep['host']} would leave the lab")


def throughput_paths(services):
    paths = set()
    for _fn, doc in services:
        for ep in doc["endpoints"]:
            if ep.get("throughput") and ep.get("url"):
                path = urllib.parse.urlsplit(ep["url"]).path or "/"
                paths.add(path)
    return sorted(paths)


def write_catalog(services, addresses, catalog_dir, rundir):
    ca = os.path.join(rundir, "pki", "lab-ca.pem")
    if not os.path.exists(ca):
        sys.exit(f"derive_catalog: {ca} does not exist (make the PKI first)")
    out = os.path.join(rundir, "catalog")
    os.makedirs(out, exist_ok=True)
    for fn, doc in services:
        doc = json.loads(json.dumps(doc))
        doc["networks"] = {"asns": [], "prefixes": [SERVER_NET + "0/24", twin6(SERVER_NET + "0/24")]}
        doc["trust"] = {"system_store": False, "pinned_ca_files": ["lab-ca.pem"]}
        doc["endpoints"] = [lab_endpoint(ep, addresses) for ep in doc["endpoints"]]
        check_no_real_address(doc, fn)
        with open(os.path.join(out, fn), "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
    # Non-service files (schemas) travel along unchanged.
    for fn in os.listdir(catalog_dir):
        if fn.endswith(".schema.json"):
            shutil.copy(os.path.join(catalog_dir, fn), out)
    shutil.copy(ca, os.path.join(out, "lab-ca.pem"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--catalog-dir", required=True)
    ap.add_argument("--rundir", required=True)
    ap.add_argument("--with-catalog", action="store_true",
                    help="also write <rundir>/catalog (needs pki/lab-ca.pem)")
    args = ap.parse_args()
    services = load_catalog(args.catalog_dir)
    hosts, addresses, by_service = plan_addresses(services)
    os.makedirs(args.rundir, exist_ok=True)
    hosts6 = {h: twin6(ip) for h, ip in hosts.items()}
    for name, value in (("hosts.json", hosts), ("hosts6.json", hosts6), ("addresses.json", addresses),
                        ("plain_http.json", plain_http_listeners(services, addresses)),
                        ("exchanges.json", exchange_listeners(services, hosts, addresses)),
                        ("services.json", by_service),
                        ("throughput.json", throughput_paths(services))):
        with open(os.path.join(args.rundir, name), "w") as f:
            json.dump(value, f, indent=2, sort_keys=True)
            f.write("\n")
    if args.with_catalog:
        write_catalog(services, addresses, args.catalog_dir, args.rundir)


if __name__ == "__main__":
    main()
