"""pcap_check.py: checks the probe's capture figures against tshark's reading of its pcap.

Used by run_scenarios.py --pcap-check. tshark is the independent reader: it
must open the file the probe wrote (`vantage run --pcap`), and its counts
must agree with what the probe put in test_keys.x_capture:

  - every TCP flow the probe reports (server ip:port + client port):
    packets in and out, and RSTs from the server (`rst_in`);
  - every tcp_rst_injected anomaly: no more flagged RSTs than tshark sees in
    that flow, and a RST with the evidence's TTL among them;
  - every DNS query (resolver, qname, id): the number of queries and
    responses and the responses' IP TTLs, both ways — each query with
    several responses that differ, or more responses than queries, must be
    reported as dns_multiple_answers with tshark's counts, and each one the
    probe reports must be such a query in tshark's reading.

Both sides drop capture duplicates the same way (the same packet read twice
within 2 ms, see probe/capture/flow_tracker.h). Nothing here judges censorship:
expect_anomalies (in the scenario file) says which anomaly types each service
must show, and [] means none at all.

Never raises on odd input: every problem is returned as a difference.
"""
import json
import os
import stat
import subprocess

DUPLICATE_WINDOW_S = 0.002  # DetectorOptions::duplicate_window_s
TCP_RST, TCP_FIN, TCP_SYN, TCP_ACK = 0x04, 0x01, 0x02, 0x10


def tshark(pcap, display_filter, fields):
    """Rows (lists of field strings) of tshark -T fields; raises RuntimeError if tshark fails."""
    cmd = ["tshark", "-r", pcap, "-n", "-Y", display_filter, "-T", "fields",
           "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in fields:
        cmd += ["-e", f]
    p = subprocess.run(cmd, capture_output=True, text=True)
    # tshark warns on stderr when run as root; a read error makes it exit non-zero
    # or say the file "appears to have been cut short".
    bad = [l for l in p.stderr.splitlines() if "cut short" in l or "isn't a capture file" in l
           or "error" in l.lower()]
    if p.returncode != 0 or bad:
        raise RuntimeError(f"tshark -r {pcap} failed ({p.returncode}): {p.stderr.strip()}")
    return [line.split("\t") for line in p.stdout.splitlines()]


def addr(ip, port):
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def first(value):
    return value.split(",")[0] if value else ""


def num(value, base=10):
    v = first(value)
    return int(v, base) if v else 0


def drop_duplicates(packets):
    """packets: dicts with 't' and 'sig', in time order → the ones the probe keeps."""
    kept, recent = [], []
    for p in sorted(packets, key=lambda p: p["t"]):
        recent = [(t, s) for t, s in recent if t >= p["t"] - DUPLICATE_WINDOW_S]
        if any(s == p["sig"] for _, s in recent):
            continue
        recent.append((p["t"], p["sig"]))
        kept.append(p)
    return kept


def read_pcap(pcap):
    """tshark's view: (frame count, TCP packets, DNS packets), duplicates dropped."""
    frames = len(tshark(pcap, "frame", ["frame.number"]))
    tcp = []
    for r in tshark(pcap, "tcp && !icmp && !icmpv6",
                    ["frame.time_epoch", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "tcp.srcport",
                     "tcp.dstport", "tcp.flags", "ip.ttl", "ipv6.hlim", "ip.id", "tcp.seq_raw",
                     "tcp.ack_raw", "ip.len", "ipv6.plen"]):
        src, dst = first(r[1]) or first(r[2]), first(r[3]) or first(r[4])
        ttl = num(r[8]) if r[8] else num(r[9])
        p = {"t": float(r[0]), "src": addr(src, first(r[5])), "dst": addr(dst, first(r[6])),
             "sport": num(r[5]), "dport": num(r[6]), "flags": num(r[7], 16), "ttl": ttl}
        p["sig"] = (p["src"], p["dst"], p["flags"], ttl, first(r[10]), first(r[11]), first(r[12]),
                    first(r[13]) or first(r[14]))
        tcp.append(p)
    dns = []
    for r in tshark(pcap, "udp && dns && !icmp && !icmpv6",
                    ["frame.time_epoch", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "udp.srcport",
                     "udp.dstport", "ip.ttl", "ipv6.hlim", "ip.id", "dns.id", "dns.flags.response",
                     "dns.flags.rcode", "dns.qry.name", "dns.a", "dns.aaaa", "dns.cname", "ip.len",
                     "ipv6.plen"]):
        src, dst = first(r[1]) or first(r[2]), first(r[3]) or first(r[4])
        ttl = num(r[7]) if r[7] else num(r[8])
        response = first(r[11]) in ("1", "True", "true")
        answers = sorted([f"A {a}" for a in r[14].split(",") if a] +
                         [f"AAAA {a}" for a in r[15].split(",") if a] +
                         [f"CNAME {a}" for a in r[16].split(",") if a])
        p = {"t": float(r[0]), "src": addr(src, first(r[5])), "dst": addr(dst, first(r[6])),
             "ttl": ttl, "id": num(r[10], 16) if first(r[10]).startswith("0x") else num(r[10]),
             "response": response, "rcode": num(r[12]), "qname": first(r[13]).lower().rstrip("."),
             "answers": answers}
        p["sig"] = (p["src"], p["dst"], ttl, first(r[9]), first(r[17]) or first(r[18]), p["id"], response)
        dns.append(p)
    return frames, drop_duplicates(tcp), drop_duplicates(dns)


def probe_capture(measurements):
    """The run's x_capture, merged over the per-service measurements:
    (packets, flows keyed by (server, client_port), anomalies, anomaly types per service)."""
    packets, flows, anomalies, types = None, {}, [], {}
    seen = set()
    for m in measurements:
        xc = (m.get("test_keys") or {}).get("x_capture") or {}
        service = m.get("test_name")
        types.setdefault(service, [])
        if not xc.get("enabled"):
            continue
        packets = xc.get("packets", packets)
        for f in xc.get("flows") or []:
            flows[(f.get("address"), f.get("client_port"))] = f
        for a in xc.get("anomalies") or []:
            types[service].append(a.get("type"))
            key = json.dumps(a, sort_keys=True)
            if key not in seen:
                seen.add(key)
                anomalies.append(a)
    return packets, flows, anomalies, types


def dns_groups(dns):
    """(resolver, qname, id) → {client ports, queries, responses [...]} (the probe's exchange key,
    but for the client address, which is always the probe's)."""
    groups = {}
    for p in dns:
        resolver, client = (p["src"], p["dst"]) if p["response"] else (p["dst"], p["src"])
        g = groups.setdefault((resolver, p["qname"], p["id"]),
                              {"clients": set(), "queries": 0, "responses": []})
        g["clients"].add(client)
        if p["response"]:
            g["responses"].append(p)
        else:
            g["queries"] += 1
    return groups


def differ(responses):
    a = responses[0]
    return any(r["ttl"] != a["ttl"] or r["rcode"] != a["rcode"] or r["answers"] != a["answers"]
               for r in responses)


def cross_check(pcap, measurements):
    """Returns (table lines, differences)."""
    lines, diffs = [], []
    try:
        mode = stat.S_IMODE(os.stat(pcap).st_mode)
        if mode != 0o600:
            diffs.append(f"{pcap} has mode {mode:o}, the probe must write it 0600")
        frames, tcp, dns = read_pcap(pcap)
    except (RuntimeError, OSError, ValueError, IndexError) as e:
        return lines, [f"tshark cannot read the pcap: {e}"]
    packets, flows, anomalies, _ = probe_capture(measurements)
    if packets is None:
        return lines, ["no measurement has x_capture enabled"]
    lines.append(f"pcap: tshark reads {frames} frames, x_capture.packets = {packets}")
    if frames != packets:
        diffs.append(f"tshark reads {frames} frames, the probe captured {packets}")

    # TCP: per flow the probe reports.
    agree = 0
    lines.append(f"  {'flow (server / client port)':34} {'in p/t':>9} {'out p/t':>9} {'rst p/t':>8}")
    rst_anomalies = {}
    for a in anomalies:
        if a.get("type") == "tcp_rst_injected":
            ev = a.get("evidence") or {}
            rst_anomalies[(ev.get("server"), ev.get("client_port"))] = ev
    for (server, cport), f in sorted(flows.items(), key=lambda kv: (str(kv[0][0]), kv[0][1] or 0)):
        inbound = [p for p in tcp if p["src"] == server and p["dport"] == cport]
        outbound = [p for p in tcp if p["dst"] == server and p["sport"] == cport]
        rsts = [p for p in inbound if p["flags"] & TCP_RST]
        got = (f.get("packets_in"), f.get("packets_out"), f.get("rst_in"))
        want = (len(inbound), len(outbound), len(rsts))
        same = got == want
        if not same:
            diffs.append(f"flow {server} client port {cport}: probe in/out/rst {got}, tshark {want}")
        ev = rst_anomalies.pop((server, cport), None)
        if ev is not None:
            flagged_rst = sum(1 for x in ev.get("packets") or [] if x.get("flags") == "RST")
            fins = sum(1 for p in inbound if p["flags"] & TCP_FIN)
            if flagged_rst > len(rsts) or ev.get("count", 0) > len(rsts) + fins:
                diffs.append(f"tcp_rst_injected {server}/{cport}: {ev.get('count')} flagged, "
                             f"tshark sees {len(rsts)} RST + {fins} FIN")
            ttls = {p["ttl"] for p in inbound if p["flags"] & (TCP_RST | TCP_FIN)}
            if ev.get("rst_ttl") not in ttls:
                diffs.append(f"tcp_rst_injected {server}/{cport}: evidence rst_ttl {ev.get('rst_ttl')}, "
                             f"tshark's RST/FIN TTLs {sorted(ttls)}")
        if same and ev is None and not rsts:
            agree += 1
            continue
        mark = "" if same else "  DIFFERENT"
        extra = f"  injected: {ev.get('count')} flagged, rst_ttl {ev.get('rst_ttl')}" if ev else ""
        lines.append(f"  {server + ' / ' + str(cport):34} {got[0]:>4}/{want[0]:<4} {got[1]:>4}/{want[1]:<4}"
                     f" {got[2]:>3}/{want[2]:<3}{extra}{mark}")
    tshark_flows = {(p["src"], p["dport"]) if p["flags"] & TCP_SYN and p["flags"] & TCP_ACK
                    else (p["dst"], p["sport"]) for p in tcp
                    if p["flags"] & TCP_SYN}
    lines.append(f"  + {agree} more flows agree, no RST (p/t = probe/tshark); the probe reports "
                 f"{len(flows)} flows, tshark sees {len(tshark_flows)} handshakes begin")
    for (server, cport), ev in rst_anomalies.items():
        diffs.append(f"tcp_rst_injected {server}/{cport}: no such flow in x_capture.flows")

    # DNS: every query, both ways.
    groups = dns_groups(dns)
    reported = {}
    for a in anomalies:
        if a.get("type") == "dns_multiple_answers":
            ev = a.get("evidence") or {}
            reported[(ev.get("resolver"), str(ev.get("qname", "")).lower().rstrip("."), ev.get("query_id"))] = ev
    multi = 0
    lines.append(f"  {'dns query (resolver qname id)':58} {'queries p/t':>11} {'answers p/t':>11}")
    for key in sorted(groups, key=str):
        g = groups[key]
        responses = g["responses"]
        ev = reported.pop(key, None)
        notable = len(responses) >= 2 and (differ(responses) or len(responses) > max(1, g["queries"]))
        if len(responses) >= 2:
            multi += 1
        row = f"{key[0]} {key[1]} {key[2]}"
        if ev is None and not notable:
            if len(responses) >= 2:  # e.g. a retransmitted query answered twice, alike: not reported
                lines.append(f"  {row:58} {'-':>5}/{g['queries']:<5} {'-':>5}/{len(responses):<5}"
                             f"  alike, not an anomaly")
            continue
        if ev is None:
            diffs.append(f"dns {row}: tshark sees {g['queries']} queries, {len(responses)} differing/extra "
                         f"responses; the probe reports no dns_multiple_answers")
            lines.append(f"  {row:58} {'-':>5}/{g['queries']:<5} {'-':>5}/{len(responses):<5}  DIFFERENT")
            continue
        got = (ev.get("queries"), ev.get("count"), sorted(ev.get("ip_ttls") or []))
        want = (g["queries"], len(responses), sorted(r["ttl"] for r in responses))
        bad = got != want or not notable
        if bad:
            diffs.append(f"dns {row}: probe queries/responses/ttls {got}, tshark {want}")
        lines.append(f"  {row:58} {got[0]:>5}/{want[0]:<5} {got[1]:>5}/{want[1]:<5}"
                     f"  ttls {want[2]}{'  DIFFERENT' if bad else ''}")
    lines.append(f"  ({len(groups)} queries in the pcap, {multi} with more than one response)")
    for key in reported:
        diffs.append(f"dns_multiple_answers {key}: tshark sees no such query")
    return lines, diffs


def check_expected(doc, measurements):
    """expect_anomalies: {service: [types]}; [] = no anomaly at all. Evidence checked
    against the scenario's techniques where they say what it must show."""
    expected = doc.get("expect_anomalies")
    if not expected:
        return [], []
    _, _, anomalies, types = probe_capture(measurements)
    lines, diffs = [], []
    names = {n for t in doc.get("techniques") or [] for n in t.get("names") or []}
    forged = {t.get("forged_ip") for t in doc.get("techniques") or [] if t.get("technique") == "dns_inject"}
    resetting = any(t.get("technique") in ("sni_rst", "stateful_sni_rst") for t in doc.get("techniques") or [])
    for service, want in expected.items():
        got = types.get(service)
        if got is None:
            diffs.append(f"{service}: no measurement")
            continue
        lines.append(f"  anomalies {service:9} expected {sorted(want) or 'none'}, "
                     f"got {dict((t, got.count(t)) for t in sorted(set(got))) or 'none'}")
        if not want and got:
            diffs.append(f"{service}: expected no anomaly, got {sorted(set(got))}")
        for t in want:
            if t not in got:
                diffs.append(f"{service}: expected a {t} anomaly, got none")
    # The evidence must point at what the censor did.
    for a in anomalies:
        ev = a.get("evidence") or {}
        if a.get("type") == "dns_multiple_answers" and forged:
            if ev.get("qname") in names and not ev.get("differ"):
                diffs.append(f"dns_multiple_answers {ev.get('qname')}: responses do not differ")
            if ev.get("qname") in names and not any(f"A {ip}" in ans for ans in ev.get("answers") or []
                                                    for ip in forged):
                diffs.append(f"dns_multiple_answers {ev.get('qname')}: the forged {sorted(forged)} "
                             f"is not among the answers {ev.get('answers')}")
        if a.get("type") == "tcp_rst_injected" and resetting:
            if ev.get("sni") not in names or ev.get("after") != "client_hello":
                diffs.append(f"tcp_rst_injected {ev.get('server')}: sni {ev.get('sni')}, after "
                             f"{ev.get('after')} (expected a censored SNI, after the ClientHello)")
    return lines, diffs
