#!/usr/bin/env python3
"""privacy_test.py: a volunteer behind a NAT, the whole flow, and a search
for every address of theirs in everything the probe and the collector kept.

The lab's censor router source-NATs the client (198.18.1.2) to a "public"
address, PUBLIC_IP, so every server, resolver and the collector see the
client as PUBLIC_IP, as a home NAT would; over IPv6 there is no NAT, as at
home: the servers see the client's own address CLIENT_IP6 (the probe
measures IPv6 in the lab); the lab's servers echo the address
they see in a response header (plain, dashed hostname, reverse DNS). A test
GeoIP database (written with probe/location/tests/data/make_mmdb.pl) maps
PUBLIC_IP's network to a test ASN and country. The probe runs `vantage run
all --upload` to a collector in the control namespace, with --pcap. Then:

  - the collector's whoami must answer PUBLIC_IP to the client (the NAT works);
  - every file under the results directory (runs, spool), the --output copy,
    the probe's stdout and stderr, `vantage list`/`show` output, the bodies
    the collector stored (its query API) and its log are searched for each
    client address (own and public IPv4, own IPv6) in every spelling, as
    text (every IPv6 text form is found by parsing), dashed, reverse DNS
    (also in DNS wire format) and as bytes,
    and inside every base64 string of the JSON: nothing may be found;
  - the same search must find both own addresses in the pcap (so the search
    works), and the pcap must be mode 0600; some measurement must have
    measured IPv6 (x_ipv6.usable, an x_endpoints entry of family ipv6);
  - every measurement must be stored, with the database's probe_asn,
    probe_cc, probe_network_name and resolver_asn, resolver_ip as the lab's
    resolver echo name reports it (--resolver-echo-name), and the servers' echo
    must have been scrubbed (so there was something to scrub).

  privacy_test.py --vantage PATH --collector PATH [--testhelper PATH] [--tools-dir DIR] [--keep]
"""
import argparse
import base64
import ipaddress
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys

LAB_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, LAB_DIR)
import censor  # noqa: E402
import run_scenarios as rs  # noqa: E402

CLIENT_IP = "198.18.1.2"
CLIENT_IP6 = "2001:2:0:1::2"
PUBLIC_IP = "198.18.9.7"
MAKE_MMDB = os.path.join(LAB_DIR, "..", "..", "probe", "location", "tests", "data", "make_mmdb.pl")
TEST_ASN, TEST_CC, TEST_NET = 64512, "DE", "Vantage Lab NAT ISP"
RESOLVER_ASN, RESOLVER_NET = 64513, "Vantage Lab Resolvers"
# The address the client's resolver queries from (its namespace's eth0), as
# the lab's resolver echo (labserve.py dnsecho) reports it.
RESOLVER_EGRESS = "198.18.3.2"


def spellings(ip):
    """Text spellings of an IPv4 address (regexes) and its byte forms."""
    a = [int(x) for x in ip.split(".")]
    h1, h2 = a[0] << 8 | a[1], a[2] << 8 | a[3]
    v4 = r"\.".join(f"0*{x}" for x in a)  # leading zeros too
    text = [
        rf"(?<![0-9.]){v4}(?![0-9]|\.[0-9])",
        rf"(?<![0-9]){a[0]}-{a[1]}-{a[2]}-{a[3]}(?![0-9])",
        rf"(?<![0-9]){a[3]}\.{a[2]}\.{a[1]}\.{a[0]}\.in-addr\.arpa",
        rf"::ffff:(0+:)?{h1:x}:{h2:x}(?![0-9a-f])",
        rf"(0{{1,4}}:){{5}}ffff:0*{h1:x}:0*{h2:x}(?![0-9a-f])",
        rf"64:ff9b::{h1:x}:{h2:x}(?![0-9a-f])",
    ]
    wire = b"".join(bytes([len(str(x))]) + str(x).encode() for x in reversed(a)) + b"\x07in-addr\x04arpa"
    return [re.compile(t.encode(), re.I) for t in text], [bytes(a), wire]


def spellings6(ip):
    """Spellings of an IPv6 address that are not its text forms (dashed,
    reverse DNS; regexes) and its byte forms (16 bytes, the reverse name in
    DNS wire format). Text forms are found by parsing (V6_TOKEN)."""
    a = ipaddress.IPv6Address(ip)
    nibbles = a.exploded.replace(":", "")[::-1]
    text = [
        re.escape(a.compressed.replace(":", "-")),
        r"\.".join(nibbles) + r"\.ip6\.arpa",
    ]
    wire = b"".join(b"\x01" + n.encode() for n in nibbles) + b"\x03ip6\x04arpa"
    return [re.compile(t.encode(), re.I) for t in text], [a.packed, wire]


# Anything that may be an IPv6 address in text (compressed, expanded, with
# leading zeros, upper case, an IPv4 tail): parsed and compared.
V6_TOKEN = re.compile(rb"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")


def find_in(data, ip):
    """Where in `data` (bytes) any spelling of `ip` is, as (offset, text)."""
    if ":" in ip:
        regexes, raw = spellings6(ip)
        want = ipaddress.IPv6Address(ip)
        hits = []
        for m in V6_TOKEN.finditer(data):
            try:
                if ipaddress.IPv6Address(m.group(0).decode().strip(".")) == want:
                    hits.append((m.start(), m.group(0)))
            except ValueError:
                pass
    else:
        regexes, raw = spellings(ip)
        hits = []
    hits += [(m.start(), m.group(0)) for r in regexes for m in r.finditer(data)]
    for b in raw:
        i = data.lower().find(b.lower())
        if i >= 0:
            hits.append((i, b))
    return hits


B64 = re.compile(r"^[A-Za-z0-9+/]{8,}={0,2}$")


def decoded_strings(value):
    """Every base64-looking string inside a JSON value, decoded."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from decoded_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from decoded_strings(v)
    elif isinstance(value, str) and B64.match(value) and len(value) % 4 == 0:
        try:
            yield base64.b64decode(value, validate=True)
        except ValueError:
            pass


def search(name, data, ips):
    """Leaks of `ips` in `data`: the raw bytes, and inside the base64 of any JSON in it."""
    leaks = []
    for ip in ips:
        for off, what in find_in(data, ip):
            leaks.append(f"{name}@{off}: {what!r} ({ip})")
    for line in data.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        for blob in decoded_strings(doc):
            for ip in ips:
                for _, what in find_in(blob, ip):
                    leaks.append(f"{name}: inside base64: {what!r} ({ip})")
    return leaks


def ns(env, name, *cmd, **kw):
    return subprocess.run(["ip", "netns", "exec", env[name], *cmd], capture_output=True, **kw)


def main():
    ap = argparse.ArgumentParser(description="the lab privacy test (client behind a NAT)")
    ap.add_argument("--vantage", required=True)
    ap.add_argument("--collector", required=True)
    ap.add_argument("--testhelper")
    ap.add_argument("--tools-dir")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("privacy_test.py: must run as root (network namespaces)")
    for what, path in (("vantage", args.vantage), ("collector", args.collector), ("testhelper", args.testhelper)):
        if path and not os.access(path, os.X_OK):
            sys.exit(f"privacy_test.py: {what} binary {path} is missing or not executable")
    signal.signal(signal.SIGTERM, rs.on_signal)
    prefix = f"vp{os.getpid() % 100000}-"
    rundir = os.path.join("/tmp/vantage-lab", prefix.rstrip("-"))
    problems = []
    try:
        rs.lab("up", prefix, rundir)
        env = censor.load_env(rundir)
        if args.testhelper:
            rs.start_testhelper(args.testhelper, env, rundir)
        rs.start_collector(args.collector, env, rundir)
        # The home NAT: everything the client sends out leaves as PUBLIC_IP.
        r = ns(env, "NS_CENSOR", "iptables", "-t", "nat", "-A", "POSTROUTING", "-s", CLIENT_IP + "/32",
               "!", "-o", "c-client", "-j", "SNAT", "--to-source", PUBLIC_IP, text=True)
        if r.returncode != 0:
            raise RuntimeError("SNAT rule: " + r.stderr)
        who = ns(env, "NS_CLIENT", "curl", "-sf", "--max-time", "3",
                 f"http://{rs.COLLECTOR_ADDR}/api/v1/whoami", text=True)
        if who.returncode != 0 or json.loads(who.stdout or "{}").get("ip") != PUBLIC_IP:
            raise RuntimeError(f"the collector does not see the client as {PUBLIC_IP}: {who.stdout!r} {who.stderr!r}")
        mmdb = os.path.join(rundir, "test-geoip.mmdb")
        subprocess.run(["perl", MAKE_MMDB, mmdb, "198.18.9.0/24", str(TEST_ASN), TEST_NET, TEST_CC,
                        "198.18.3.0/24", str(RESOLVER_ASN), RESOLVER_NET, TEST_CC], check=True)

        penv = rs.probe_env(args, rundir)  # its own config dir, consent given
        results = os.path.join(rundir, "results")
        output = os.path.join(rundir, "measurements.jsonl")
        pcap = os.path.join(rundir, "probe.pcap")
        cmd = [args.vantage, "run", "all", "--catalog", os.path.join(rundir, "catalog"),
               "--ca-bundle", os.path.join(rundir, "pki", "lab-ca.pem"), "--results-dir", results,
               "--output", output, "--upload", "--collector", f"http://{rs.COLLECTOR_ADDR}",
               "--geoip-asn-db", mmdb, "--pcap", pcap, "--timeout", "25", "--json",
               "--resolver-echo-name", "resolver-echo.lab.vantage"]
        if args.testhelper:
            cmd += ["--control", f"http://{rs.TESTHELPER_ADDR}/"]
        p = subprocess.run(["ip", "netns", "exec", env["NS_CLIENT"], *cmd], capture_output=True, timeout=60, env=penv)
        outputs = {"probe stdout": p.stdout, "probe stderr": p.stderr}
        if not os.path.exists(output):
            raise RuntimeError(f"vantage exited {p.returncode} without measurements: {p.stderr.decode()[-2000:]}")
        for sub in (["list"], ["upload", "--list", "--json"]):
            q = subprocess.run([args.vantage, *sub, "--results-dir", results], capture_output=True, env=penv)
            outputs["vantage " + " ".join(sub)] = q.stdout + q.stderr
        with open(output) as f:
            measurements = [json.loads(l) for l in f if l.strip()]
        run_ids = [f[:-6] for f in os.listdir(results) if f.endswith(".jsonl")]
        for rid in run_ids:
            for extra in ([], ["--json"]):
                q = subprocess.run([args.vantage, "show", rid, *extra, "--results-dir", results], capture_output=True,
                                   env=penv)
                outputs[" ".join(["vantage show", rid, *extra])] = q.stdout + q.stderr

        got = ns(env, "NS_CONTROL", "curl", "-sf", "--max-time", "5",
                 f"http://{rs.COLLECTOR_ADDR}/api/v1/measurements?limit=1000&body=1")
        if got.returncode != 0:
            raise RuntimeError("collector query failed")
        outputs["collector stored bodies"] = got.stdout
        stored = [row["measurement"] for row in json.loads(got.stdout)["results"]]
        with open(os.path.join(rundir, "logs", "collector.log"), "rb") as f:
            outputs["collector log"] = f.read()

        # 1. No spelling of either address anywhere but the pcap.
        ips = [CLIENT_IP, PUBLIC_IP, CLIENT_IP6]
        files = 0
        for root, _, names in os.walk(results):
            for n in names:
                path = os.path.join(root, n)
                with open(path, "rb") as f:
                    problems += search(os.path.relpath(path, rundir), f.read(), ips)
                files += 1
        with open(output, "rb") as f:
            problems += search("--output", f.read(), ips)
        for name, data in outputs.items():
            problems += search(name, data, ips)
        # 2. The search finds what is there: the pcap holds the own address.
        with open(pcap, "rb") as f:
            captured = f.read()
        for own in (CLIENT_IP, CLIENT_IP6):
            if not find_in(captured, own):
                problems.append(f"the search does not find the client's address {own} in the pcap")
        if not any(((m.get("test_keys") or {}).get("x_ipv6") or {}).get("usable") is True and
                   any(e.get("family") == "ipv6" for e in (m.get("test_keys") or {}).get("x_endpoints") or [])
                   for m in measurements):
            problems.append("no measurement measured IPv6: its addresses were not tested")
        mode = stat.S_IMODE(os.stat(pcap).st_mode)
        if mode != 0o600:
            problems.append(f"pcap mode {oct(mode)}, not 0600")
        # 3. Everything stored, located by the test database, echoes scrubbed.
        if len(stored) != len(measurements) or not measurements:
            problems.append(f"collector stored {len(stored)} of {len(measurements)} measurements")
        echoes = 0
        for m in stored:
            for k, want in (("probe_asn", f"AS{TEST_ASN}"), ("probe_cc", TEST_CC), ("probe_network_name", TEST_NET),
                            ("resolver_asn", f"AS{RESOLVER_ASN}"), ("resolver_network_name", RESOLVER_NET),
                            ("resolver_ip", RESOLVER_EGRESS)):
                if m.get(k) != want:
                    problems.append(f"stored {m.get('test_name')}: {k} = {m.get(k)!r}, expected {want!r}")
            for req in (m.get("test_keys") or {}).get("requests") or []:
                seen = ((req.get("response") or {}).get("headers") or {}).get("X-Lab-Seen-From")
                if isinstance(seen, str):
                    echoes += 1
                    # IPv4: address, dashed name, reverse name; IPv6: the address alone.
                    if seen.count("[scrubbed]") != 3 and seen.split() != ["[scrubbed]"]:
                        problems.append(f"server echo not fully scrubbed: {seen!r}")
        if echoes == 0:
            problems.append("no response carried the servers' X-Lab-Seen-From echo: nothing was tested")
        print(f"privacy: searched {files} result/spool files, {len(outputs) + 1} outputs and "
              f"{len(stored)} stored measurements for {len(ips)} addresses; {echoes} echoed headers scrubbed; "
              f"location {stored[0].get('probe_asn') if stored else '-'}/{stored[0].get('probe_cc') if stored else '-'}")
    except (RuntimeError, OSError, subprocess.SubprocessError, ValueError, KeyError, rs.Interrupted) as e:
        problems.append(f"ERROR {e}")
    finally:
        if args.keep:
            print(f"# lab {prefix} kept in {rundir}")
        else:
            rs.lab("down", prefix, rundir, check=False)
            if not problems:
                shutil.rmtree(rundir, ignore_errors=True)
            else:
                print(f"# kept {rundir} for inspection", file=sys.stderr)
    for pr in problems[:50]:
        print("FAIL " + pr)
    print("privacy test: " + ("OK" if not problems else f"{len(problems)} problems"))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
