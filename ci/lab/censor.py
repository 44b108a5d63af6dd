#!/usr/bin/env python3
"""censor.py: applies and removes the lab censor's techniques.

Every rule matches only traffic from or to the client subnet 198.18.1.0/24
(and its IPv6 twin 2001:2:0:1::/64), so the control vantage point is never
censored; outages are the exception on
purpose (they are not censorship: everybody sees them). Each applied
technique is recorded in <rundir>/censor-state.json with the exact commands
that undo it. A technique whose helper program is missing or dies fails
loudly: it must never pass silently without censoring.

Each technique applies in both families by default: every iptables rule has
its ip6tables twin, written with the twins of its addresses (198.18.N.H ->
2001:2:0:N::H, derive_catalog.twin6). A technique's `family` ("4" or "6")
limits it to one family (the DNS techniques are IPv4 only: the client's
resolver is reached over IPv4).

  censor.py --rundir R [--tools-dir D] apply TECHNIQUE [--names a,b]
            [--ips x,y] [--ports 443,5222] [--param k=v ...]
  censor.py --rundir R [--tools-dir D] scenario FILE.json
  censor.py --rundir R remove ID | clear | list
  censor.py techniques
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

LAB_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, LAB_DIR)
import labdns  # noqa: E402
from derive_catalog import twin6  # noqa: E402

CLIENT_NET = "198.18.1.0/24"
FAMILIES = ("4", "6")
# iptables words that ip6tables spells differently.
V6_WORDS = {"icmp-admin-prohibited": "icmp6-adm-prohibited", "TTL": "HL", "--ttl-set": "--hl-set"}
# Techniques whose traffic is IPv4 only (the client's resolver is reached
# over IPv4): their rules get no IPv6 twin.
IPV4_ONLY = {"dns_drop", "dns_inject"}
CENSOR_IP = "198.18.1.1"
BOGON_IP = "10.10.34.34"
# A lab address that nothing answers on: the censor has no route to it.
INJECTED_IP = "198.18.4.4"
MITM_PORT = 8443
BLOCKPAGE_PORT = 8081
QUEUE = {"dns_inject": 10, "sni_drop": 20, "delay": 30}
THROTTLE_MARK = "0x100/0x100"
RESIDUAL_MARK = "0x5a"

DNS_LIE = {"dns_nxdomain": "nxdomain", "dns_refused": "refused",
           "dns_servfail": "servfail", "dns_null": "null", "dns_bogon": "bogon"}

TECHNIQUES = sorted(list(DNS_LIE) + [
    "dns_drop", "dns_inject", "ip_blackhole", "tcp_rst_syn", "icmp_prohibited",
    "sni_rst", "stateful_sni_rst", "sni_drop", "residual", "tls_mitm",
    "http_blockpage", "throttle", "delay", "loss", "outage", "client_offline",
    "large_body", "app_prologue_rst", "app_record_drop", "tls_appdata_rst"])
# WhatsApp's Noise prologue ("WA", protocol 6, dictionary 3): the first bytes
# its chat client sends (tests_catalog/whatsapp.json, exchange whatsapp_noise).
WHATSAPP_PROLOGUE_HEX = "57410603"
# MMTLS's handshake record header (type 0x16, version 0xf104): how WeChat's
# long-link client opens (tests_catalog/wechat.json, exchange wechat_mmtls).
MMTLS_RECORD_HEX = "16f104"
# A client TLS record that opens a segment with content type 23
# (application_data) and a length of at least this many bytes: the first
# request the client sends once the handshake is done. In TLS 1.3 the
# client's Finished is an application_data record too, of 53 or 69 bytes
# (SHA-256 or SHA-384): the threshold lets it pass, so handshakes complete.
TLS_APPDATA_MIN_LENGTH = 80


class CensorError(Exception):
    pass


def running(pid):
    """Whether pid still runs. The programs the lab starts are orphans whose
    PID 1 (a container's) may reap them only a second or two after they exit:
    a zombie meanwhile, which os.kill(pid, 0) still finds. A zombie has exited."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            # "pid (comm) S ...": the state follows the last ')'.
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def stop(pid, tries):
    """SIGTERM, then up to tries × 50 ms for it to exit, then SIGKILL."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(tries):
        if not running(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run(cmd, check=True):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and p.returncode != 0:
        raise CensorError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    return p


def dns_wire(name):
    """The qname as it appears in a DNS message, as an xt_string hex pattern."""
    out = ""
    for label in name.rstrip(".").split("."):
        out += "|%02x|%s" % (len(label), label)
    return out + "|00|"


def load_env(rundir):
    env = {}
    with open(os.path.join(rundir, "lab.env")) as f:
        for line in f:
            if "=" in line:
                k, v = line.strip().split("=", 1)
                env[k] = v
    return env


class Censor:
    def __init__(self, rundir, tools_dir=None):
        self.rundir = os.path.abspath(rundir)
        self.env = load_env(self.rundir)
        self.tools_dir = tools_dir or os.environ.get("LAB_TOOLS_DIR")
        with open(os.path.join(self.rundir, "hosts.json")) as f:
            self.hosts = json.load(f)
        # Address literals of the catalog (Telegram's data centres) and the
        # lab address each stands for: `names` may give them for IP rules.
        self.addresses = {}
        if os.path.exists(os.path.join(self.rundir, "addresses.json")):
            with open(os.path.join(self.rundir, "addresses.json")) as f:
                self.addresses = json.load(f)
        self.state_path = os.path.join(self.rundir, "censor-state.json")
        self.state = {"applied": [], "dns_lies": {}, "next_id": 1}
        if os.path.exists(self.state_path):
            with open(self.state_path) as f:
                self.state = json.load(f)

    # -- helpers ---------------------------------------------------------
    def save(self):
        with open(self.state_path, "w") as f:
            json.dump(self.state, f, indent=2)

    def ns(self, role):
        return self.env["NS_" + role.upper()]

    def ips_of(self, spec):
        ips = list(spec.get("ips", []))
        for name in spec.get("names", []):
            if name in self.hosts:
                ips.append(self.hosts[name])
            elif name in self.addresses:
                ips.append(self.addresses[name])
            else:
                raise CensorError(f"{name} is not a lab hostname or catalog address")
        out = []
        for ip in ips:
            if ip not in out:
                out.append(ip)
        if not out:
            raise CensorError(f"{spec['technique']}: needs names or ips")
        return out

    def names_of(self, spec):
        names = spec.get("names", [])
        if not names:
            raise CensorError(f"{spec['technique']}: needs names")
        return names

    def tool(self, entry):
        if not self.tools_dir:
            raise CensorError(f"{entry['technique']}: needs lab_nfq but no --tools-dir/LAB_TOOLS_DIR given")
        path = os.path.join(self.tools_dir, "lab_nfq")
        if not os.access(path, os.X_OK):
            raise CensorError(f"{entry['technique']}: {path} is missing or not executable")
        return path

    def families(self, spec):
        """The families a technique applies in: spec `family` "4", "6" or
        both (default; IPv4 only for the DNS techniques)."""
        fam = spec.get("family")
        if fam is None:
            return ("4",) if spec.get("technique") in IPV4_ONLY else FAMILIES
        fam = str(fam)
        if fam not in FAMILIES:
            raise CensorError(f"{spec.get('technique')}: family must be \"4\" or \"6\", not {fam!r}")
        if fam == "6" and spec.get("technique") in IPV4_ONLY:
            raise CensorError(f"{spec['technique']}: IPv4 only (the client's resolver is reached over IPv4)")
        return (fam,)

    @staticmethod
    def v6_rule(rule):
        """An iptables rule's ip6tables twin: each address after -s/-d is
        replaced by its twin, and the words ip6tables spells otherwise."""
        out = []
        for i, word in enumerate(rule):
            if i > 0 and rule[i - 1] in ("-s", "-d"):
                try:
                    word = twin6(word)
                except ValueError as e:
                    raise CensorError(f"{e}: give the technique \"family\": \"4\"")
            out.append(V6_WORDS.get(word, word))
        return out

    def ipt(self, entry, role, table, chain, *rule, v6_words=None):
        """Appends an iptables rule (and its ip6tables twin, per the entry's
        families) tagged with the entry's id; records its undo. `v6_words`
        replaces words of the twin that differ by family beyond addresses
        (a u32 match's header offsets)."""
        tag = ["-m", "comment", "--comment", f"lab:{entry['id']}"]
        for fam in self.families(entry["spec"]):
            r = list(rule) if fam == "4" else [(v6_words or {}).get(w, w) for w in self.v6_rule(list(rule))]
            j = r.index("-j")
            add = ["ip", "netns", "exec", self.ns(role), "iptables" if fam == "4" else "ip6tables",
                   "-w", "-t", table, "-A", chain, *r[:j], *tag, *r[j:]]
            run(add)
            undo = list(add)
            undo[undo.index("-A")] = "-D"
            entry["undo"].append(undo)

    def start_proc(self, entry, role, argv):
        name = f"censor-{entry['id']}-{entry['technique']}"
        log = open(os.path.join(self.rundir, "logs", name + ".log"), "w")
        p = subprocess.Popen(["ip", "netns", "exec", self.ns(role), *argv],
                             stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        pidfile = os.path.join(self.rundir, "pids", name + ".pid")
        with open(pidfile, "w") as f:
            f.write(str(p.pid))
        time.sleep(0.3)
        if p.poll() is not None:
            raise CensorError(f"{' '.join(argv)} exited at once ({p.returncode}); "
                              f"see {log.name}")
        entry["pidfiles"].append(pidfile)

    def lies_of(self, role):
        return self.state.setdefault("dns_lies" if role == "client" else "control_dns_lies", {})

    def set_dns_lies(self, lies_delta, remove=False, roles=("client",)):
        for role in roles:
            lies = self.lies_of(role)
            for name, lie in lies_delta.items():
                if name not in self.hosts:
                    raise CensorError(f"{name} is not a lab hostname")
                if remove:
                    lies.pop(name, None)
                else:
                    lies[name] = lie
            self.restart_resolver(role)

    def restart_resolver(self, role):
        """Rewrites one resolver's configuration and restarts it."""
        lies = self.lies_of(role)
        conf = labdns.write_unbound(self.rundir, role, lies)
        run(["unbound-checkconf", conf])
        pidfile = os.path.join(self.rundir, "unbound", f"unbound-{role}.pid")
        if os.path.exists(pidfile):
            pid = int(open(pidfile).read().strip() or 0)
            if pid:
                stop(pid, 50)
        run(["ip", "netns", "exec", self.ns("resolvers"), "unbound", "-c", conf])
        # Any name still answered truthfully proves the resolver is back.
        probe = next((h for h in sorted(self.hosts) if h not in lies), None)
        if probe is None:
            time.sleep(0.5)
            return
        addr = labdns.CLIENT_RESOLVER if role == "client" else labdns.CONTROL_RESOLVER
        for _ in range(50):
            p = run(["ip", "netns", "exec", self.ns(role), "dig", "+short", "+time=1",
                     "+tries=1", "@" + addr, probe], check=False)
            if p.stdout.strip():
                return
            time.sleep(0.1)
        raise CensorError(f"{role} resolver did not come back after reconfiguration")

    # -- techniques ------------------------------------------------------
    def apply(self, spec):
        tech = spec.get("technique")
        if tech not in TECHNIQUES:
            raise CensorError(f"unknown technique {tech!r} (known: {', '.join(TECHNIQUES)})")
        entry = {"id": self.state["next_id"], "technique": tech, "spec": spec,
                 "undo": [], "pidfiles": [], "dns_names": [], "dns_roles": ["client"]}
        self.state["next_id"] += 1
        self.state["applied"].append(entry)
        try:
            if tech in DNS_LIE:
                self._dns_lie(entry, spec)
            else:
                getattr(self, "_" + tech)(entry, spec)
        except Exception:
            self.save()
            self.remove(entry["id"])
            raise
        self.save()
        return entry["id"]

    def _dns_lie(self, entry, spec):
        lie = {"type": DNS_LIE[spec["technique"]]}
        if lie["type"] == "bogon":
            lie["ip"] = spec.get("ip", BOGON_IP)
        names = self.names_of(spec)
        entry["dns_names"] = names
        self.set_dns_lies({n: lie for n in names})

    def _dns_drop(self, entry, spec):
        names = self.names_of(spec)
        if spec.get("where", "path") == "resolver":
            entry["dns_names"] = names
            self.set_dns_lies({n: {"type": "deny"} for n in names})
            return
        for name in names:
            for proto in ("udp", "tcp"):
                self.ipt(entry, "censor", "filter", "FORWARD", "-s", CLIENT_NET, "-p", proto,
                         "--dport", "53", "-m", "string", "--algo", "bm", "--icase",
                         "--hex-string", dns_wire(name), "-j", "DROP")

    def _dns_inject(self, entry, spec):
        tool = self.tool(entry)
        q = str(spec.get("queue", QUEUE["dns_inject"]))
        self.start_proc(entry, "censor", [
            tool, "inject-dns", "--queue", q,
            "--forged-ip", spec.get("forged_ip", INJECTED_IP),
            "--names", ",".join(self.names_of(spec)),
            "--ttl", str(spec.get("ttl", 60)),
            "--delay-real", str(spec.get("delay_real_ms", 200))])
        self.ipt(entry, "censor", "filter", "FORWARD", "-s", CLIENT_NET, "-p", "udp",
                 "--dport", "53", "-j", "NFQUEUE", "--queue-num", q)

    def _port_rules(self, spec, default_proto="tcp"):
        ports = spec.get("ports") or []
        proto = spec.get("proto", default_proto)
        if not ports:
            return [["-p", proto]] if proto != "all" else [[]]
        if proto == "all":
            proto = "tcp"
        return [["-p", proto, "--dport", str(p)] for p in ports]

    def _ip_blackhole(self, entry, spec):
        for ip in self.ips_of(spec):
            for pr in self._port_rules(spec, "all"):
                self.ipt(entry, "censor", "filter", "FORWARD", "-s", CLIENT_NET, "-d", ip,
                         *pr, "-j", "DROP")

    def _tcp_rst_syn(self, entry, spec):
        for ip in self.ips_of(spec):
            for pr in self._port_rules(spec):
                self.ipt(entry, "censor", "filter", "FORWARD", "-s", CLIENT_NET, "-d", ip,
                         *pr, "--syn", "-j", "REJECT", "--reject-with", "tcp-reset")

    def _icmp_prohibited(self, entry, spec):
        for ip in self.ips_of(spec):
            for pr in self._port_rules(spec, "all"):
                self.ipt(entry, "censor", "filter", "FORWARD", "-s", CLIENT_NET, "-d", ip,
                         *pr, "-j", "REJECT", "--reject-with", "icmp-admin-prohibited")

    def _sni_match(self, spec, name):
        return ["-m", "string", "--algo", "bm", "--string", name]

    def _sni_rst(self, entry, spec, stateful=False):
        gate = ["-m", "conntrack", "--ctstate", "ESTABLISHED"] if stateful else []
        for name in self.names_of(spec):
            for pr in self._port_rules({"ports": spec.get("ports", [443])}):
                self.ipt(entry, "censor", "filter", "FORWARD", "-s", CLIENT_NET, *pr, *gate,
                         *self._sni_match(spec, name), "-j", "REJECT",
                         "--reject-with", "tcp-reset")
        # The censor's own RSTs leave with its own IP TTL, as a real middlebox's
        # do (here the server is only one hop further, so without this its
        # TTL would be indistinguishable): the probe's capture must see it.
        self.ipt(entry, "censor", "mangle", "OUTPUT", "-p", "tcp", "-d", CLIENT_NET,
                 "--tcp-flags", "RST", "RST", "-j", "TTL", "--ttl-set", str(spec.get("rst_ttl", 41)))

    def _app_prologue_rst(self, entry, spec):
        """An application-protocol DPI: the connect goes through, and the
        connection is reset once a client packet to the names' addresses
        carries the app's opening bytes (xt_string on `prologue`, hex;
        default WhatsApp's). The packet itself is dropped (REJECT)."""
        prologue = spec.get("prologue", WHATSAPP_PROLOGUE_HEX)
        if not prologue or len(prologue) % 2 or any(c not in "0123456789abcdef" for c in prologue):
            raise CensorError(f"app_prologue_rst: prologue must be lower-case hex, not {prologue!r}")
        for ip in self.ips_of(spec):
            for pr in self._port_rules({"ports": spec.get("ports", [443, 5222])}):
                self.ipt(entry, "censor", "filter", "FORWARD", "-s", CLIENT_NET, "-d", ip, *pr,
                         "-m", "conntrack", "--ctstate", "ESTABLISHED",
                         "-m", "string", "--algo", "bm", "--hex-string", f"|{prologue}|",
                         "-j", "REJECT", "--reject-with", "tcp-reset")
        # The censor's RSTs leave with its own TTL, as in sni_rst.
        self.ipt(entry, "censor", "mangle", "OUTPUT", "-p", "tcp", "-d", CLIENT_NET,
                 "--tcp-flags", "RST", "RST", "-j", "TTL", "--ttl-set", str(spec.get("rst_ttl", 41)))

    def _app_record_drop(self, entry, spec):
        """An application-protocol DPI that starves: the connect goes
        through, and every client packet to the names' addresses carrying
        the app's record header (xt_string on `record`, hex; default
        MMTLS's) in an ESTABLISHED flow is dropped, retransmissions too, so
        the server never sees the record and the client never gets a reply."""
        record = spec.get("record", MMTLS_RECORD_HEX)
        if not record or len(record) % 2 or any(c not in "0123456789abcdef" for c in record):
            raise CensorError(f"app_record_drop: record must be lower-case hex, not {record!r}")
        for ip in self.ips_of(spec):
            for pr in self._port_rules({"ports": spec.get("ports", [80, 443, 8080])}):
                self.ipt(entry, "censor", "filter", "FORWARD", "-s", CLIENT_NET, "-d", ip, *pr,
                         "-m", "conntrack", "--ctstate", "ESTABLISHED",
                         "-m", "string", "--algo", "bm", "--hex-string", f"|{record}|",
                         "-j", "DROP")
    def _tls_appdata_rst(self, entry, spec):
        """A DPI that lets the TLS handshake through and resets the
        connection on the client's first application-data record (content
        type 0x17, length >= `min_length`, default TLS_APPDATA_MIN_LENGTH,
        at the start of a segment: xt_u32) in ESTABLISHED flows to the
        names' addresses (`ports`, default 443). The packet itself is
        dropped (REJECT tcp-reset)."""
        min_length = spec.get("min_length", TLS_APPDATA_MIN_LENGTH)
        if not isinstance(min_length, int) or isinstance(min_length, bool) or not 70 <= min_length <= 16384:
            raise CensorError("tls_appdata_rst: min_length must be an integer 70-16384 (a TLS 1.3 Finished "
                              f"record, up to 69 bytes, must pass), not {min_length!r}")
        # The TCP payload's offset: IPv4's header length, then TCP's data
        # offset; in IPv6 the TCP header follows the 40-byte fixed header
        # (the lab sends no extension headers), so the data offset is read
        # at 52 and the payload starts 40 bytes past it.
        payload = "0>>22&0x3C@12>>26&0x3C@"
        match = f"{payload}0>>24=0x17&&{payload}1&0xFFFF={min_length:#x}:0xFFFF"
        match6 = f"52>>26&0x3C@40>>24=0x17&&52>>26&0x3C@41&0xFFFF={min_length:#x}:0xFFFF"
        for ip in self.ips_of(spec):
            for pr in self._port_rules({"ports": spec.get("ports", [443])}):
                self.ipt(entry, "censor", "filter", "FORWARD", "-s", CLIENT_NET, "-d", ip, *pr,
                         "-m", "conntrack", "--ctstate", "ESTABLISHED",
                         "-m", "u32", "--u32", match,
                         "-j", "REJECT", "--reject-with", "tcp-reset", v6_words={match: match6})
        # The censor's RSTs leave with its own TTL, as in sni_rst.
        self.ipt(entry, "censor", "mangle", "OUTPUT", "-p", "tcp", "-d", CLIENT_NET,
                 "--tcp-flags", "RST", "RST", "-j", "TTL", "--ttl-set", str(spec.get("rst_ttl", 41)))

    def _stateful_sni_rst(self, entry, spec):
        self._sni_rst(entry, spec, stateful=True)

    def _sni_drop(self, entry, spec):
        names = self.names_of(spec)
        ports = spec.get("ports", [443])
        try:
            tool = self.tool(entry)
        except CensorError as e:
            if spec.get("require_tool"):
                raise
            print(f"censor.py: WARNING: {e}; sni_drop falls back to xt_string DROP",
                  file=sys.stderr)
            entry["fallback"] = True
            for name in names:
                for pr in self._port_rules({"ports": ports}):
                    self.ipt(entry, "censor", "filter", "FORWARD", "-s", CLIENT_NET, *pr,
                             *self._sni_match(spec, name), "-j", "DROP")
            return
        q = str(spec.get("queue", QUEUE["sni_drop"]))
        self.start_proc(entry, "censor", [tool, "drop-sni", "--queue", q,
                                          "--names", ",".join(names)])
        for pr in self._port_rules({"ports": ports}):
            self.ipt(entry, "censor", "filter", "FORWARD", "-s", CLIENT_NET, *pr,
                     "-j", "NFQUEUE", "--queue-num", q)

    def _residual(self, entry, spec):
        table = f"lab_residual_{entry['id']}"
        timeout = int(spec.get("timeout_s", 90))
        action = "drop" if spec.get("action") == "drop" else "reject with tcp reset"
        for fam in self.families(spec):
            nfam, addr, net = ("ip", "ipv4_addr", CLIENT_NET) if fam == "4" else ("ip6", "ipv6_addr", twin6(CLIENT_NET))
            nft = f"""
table {nfam} {table} {{
  set penalty {{ type {addr} . {addr} . inet_service; flags timeout; timeout {timeout}s; }}
  chain forward {{
    type filter hook forward priority 0; policy accept;
    {nfam} saddr {net} meta mark {RESIDUAL_MARK} add @penalty {{ {nfam} saddr . {nfam} daddr . tcp dport }}
    {nfam} saddr {net} {nfam} saddr . {nfam} daddr . tcp dport @penalty {action}
  }}
}}
"""
            p = subprocess.run(["ip", "netns", "exec", self.ns("censor"), "nft", "-f", "-"],
                               input=nft, text=True, capture_output=True)
            if p.returncode != 0:
                raise CensorError(f"nft residual table ({nfam}): {p.stderr.strip()}")
            entry["undo"].append(["ip", "netns", "exec", self.ns("censor"), "nft", "delete",
                                  "table", nfam, table])
        for name in self.names_of(spec):
            for pr in self._port_rules({"ports": spec.get("ports", [443])}):
                self.ipt(entry, "censor", "mangle", "FORWARD", "-s", CLIENT_NET, *pr,
                         *self._sni_match(spec, name), "-j", "MARK", "--set-mark", RESIDUAL_MARK)

    def _tls_mitm(self, entry, spec):
        for ip in self.ips_of(spec):
            for port in spec.get("ports", [443]):
                self.ipt(entry, "censor", "nat", "PREROUTING", "-s", CLIENT_NET, "-d", ip,
                         "-p", "tcp", "--dport", str(port), "-j", "REDIRECT",
                         "--to-ports", str(MITM_PORT))

    def _http_blockpage(self, entry, spec):
        for ip in self.ips_of(spec):
            for port in spec.get("ports", [80]):
                self.ipt(entry, "censor", "nat", "PREROUTING", "-s", CLIENT_NET, "-d", ip,
                         "-p", "tcp", "--dport", str(port), "-j", "REDIRECT",
                         "--to-ports", str(BLOCKPAGE_PORT))

    def _throttle(self, entry, spec):
        kbit = float(spec.get("kbit", 140))
        bytes_per_s = max(1, int(kbit * 1000 / 8))
        burst = max(int(spec.get("burst_bytes", 0)), 2 * bytes_per_s)
        for name in self.names_of(spec):
            for pr in self._port_rules({"ports": spec.get("ports", [443])}):
                self.ipt(entry, "censor", "mangle", "FORWARD", "-s", CLIENT_NET, *pr,
                         *self._sni_match(spec, name), "-j", "CONNMARK",
                         "--set-xmark", THROTTLE_MARK)
        self.ipt(entry, "censor", "filter", "FORWARD", "-d", CLIENT_NET,
                 "-m", "connmark", "--mark", THROTTLE_MARK,
                 "-m", "hashlimit", "--hashlimit-above", f"{bytes_per_s}b/s",
                 "--hashlimit-burst", f"{burst}b",
                 "--hashlimit-mode", "srcip,srcport,dstip,dstport",
                 "--hashlimit-name", f"labthr{entry['id']}", "-j", "DROP")

    def _delay(self, entry, spec):
        tool = self.tool(entry)
        q = str(spec.get("queue", QUEUE["delay"]))
        self.start_proc(entry, "censor", [tool, "delay", "--queue", q,
                                          "--ms", str(int(spec["ms"]))])
        # mangle, not filter: a packet accepted by this queue still meets the
        # filter table's rules (SNI, NFQUEUE of other techniques).
        for direction in ("-s", "-d"):
            self.ipt(entry, "censor", "mangle", "PREROUTING", direction, CLIENT_NET,
                     "-j", "NFQUEUE", "--queue-num", q)

    def _loss(self, entry, spec):
        prob = float(spec["probability"])
        if not 0 < prob < 1:
            raise CensorError("loss: probability must be in (0, 1)")
        for direction in ("-s", "-d"):
            self.ipt(entry, "censor", "mangle", "PREROUTING", direction, CLIENT_NET,
                     "-m", "statistic", "--mode", "random", "--probability", str(prob),
                     "-j", "DROP")

    def _outage(self, entry, spec):
        mode = spec.get("mode", "refused")
        ips = self.ips_of(spec)
        if mode == "refused":
            # As if the listeners were stopped (on `ports` only, if given):
            # the servers' kernel resets.
            for ip in ips:
                for pr in self._port_rules(spec):
                    self.ipt(entry, "servers", "filter", "INPUT", "-d", ip, *pr,
                             "-j", "REJECT", "--reject-with", "tcp-reset")
        elif mode == "unreachable":
            srv = self.ns("servers")
            for ip in ips:
                for fam in self.families(spec):
                    a = f"{ip}/32" if fam == "4" else f"{twin6(ip)}/128"
                    run(["ip", "-n", srv, "addr", "del", a, "dev", "eth0"])
                    entry["undo"].append(["ip", "-n", srv, "addr", "add", a, "dev", "eth0", "nodad"])
        else:
            raise CensorError(f"outage: unknown mode {mode!r} (refused|unreachable)")
        # The service's own DNS failing: both resolvers, the control's too.
        dns = spec.get("dns")
        if dns:
            if dns not in ("servfail", "nxdomain"):
                raise CensorError(f"outage: dns must be servfail or nxdomain, not {dns!r}")
            names = [n for n in self.names_of(spec)]
            entry["dns_names"] = names
            entry["dns_roles"] = ["client", "control"]
            self.set_dns_lies({n: {"type": dns} for n in names}, roles=("client", "control"))

    def _large_body(self, entry, spec):
        """Not censorship: the servers answer `/` of these names with the
        large body (an nginx server block per name, then a reload)."""
        d = os.path.join(self.rundir, "nginx")
        conf_dir = os.path.join(d, "scenario.d")
        os.makedirs(conf_dir, exist_ok=True)
        path = os.path.join(conf_dir, f"large-{entry['id']}.conf")
        pki = os.path.join(self.rundir, "pki")
        www = os.path.join(self.rundir, "www")
        with open(path, "w") as f:
            for name in self.names_of(spec):
                # Both families, and the rest of the name as the default
                # server serves it (Signal's WebSocket upgrade included).
                f.write(f"server {{ listen 80; listen 443 ssl; listen [::]:80; listen [::]:443 ssl; server_name {name};\n"
                        f"  ssl_certificate {pki}/lab-server.chain.pem; ssl_certificate_key {pki}/lab-server.key;\n"
                        f"  location = / {{ root {www}; try_files /large.bin =404; default_type application/octet-stream; }}\n"
                        f"  location = /v1/websocket/ {{ proxy_pass http://127.0.0.1:5280; proxy_http_version 1.1;\n"
                        f"    proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \"upgrade\";\n"
                        f"    proxy_set_header Host $host; }}\n"
                        f"  location / {{ return 200 \"ok\\n\"; }} }}\n")
        reload = ["ip", "netns", "exec", self.ns("servers"), "nginx", "-s", "reload",
                  "-c", os.path.join(d, "nginx.conf"), "-p", d, "-e", os.path.join(d, "error.log")]
        run(reload)
        entry["undo"].append(["rm", "-f", path])
        entry["undo"].append(reload)
        time.sleep(0.5)  # the old workers finish; new connections get the new blocks

    def _client_offline(self, entry, spec):
        cli = self.ns("client")
        run(["ip", "-n", cli, "link", "set", "eth0", "down"])
        entry["undo"].append(["ip", "-n", cli, "link", "set", "eth0", "up"])
        entry["undo"].append(["ip", "-n", cli, "route", "replace", "198.18.0.0/15",
                              "via", CENSOR_IP])
        entry["undo"].append(["ip", "-n", cli, "-6", "route", "replace", "2001:2::/48",
                              "via", twin6(CENSOR_IP)])

    # -- removal ---------------------------------------------------------
    def remove(self, entry_id):
        entry = next((e for e in self.state["applied"] if e["id"] == entry_id), None)
        if entry is None:
            raise CensorError(f"no applied technique with id {entry_id}")
        errors = []
        for pidfile in entry["pidfiles"]:
            try:
                stop(int(open(pidfile).read()), 30)
            except (FileNotFoundError, ValueError):
                pass
            if os.path.exists(pidfile):
                os.unlink(pidfile)
        for undo in entry["undo"]:
            p = run(undo, check=False)
            if p.returncode != 0:
                errors.append(f"{' '.join(undo)}: {p.stderr.strip()}")
        self.state["applied"].remove(entry)
        if entry["dns_names"]:
            self.set_dns_lies({n: None for n in entry["dns_names"]}, remove=True,
                              roles=entry.get("dns_roles", ["client"]))
        self.save()
        if errors:
            raise CensorError("undo failed: " + "; ".join(errors))

    def clear(self):
        for entry in list(reversed(self.state["applied"])):
            self.remove(entry["id"])

    def apply_scenario(self, doc):
        ids = []
        for spec in doc.get("techniques", []):
            ids.append(self.apply(spec))
        link = doc.get("link") or {}
        if link.get("loss"):
            ids.append(self.apply({"technique": "loss", "probability": link["loss"]}))
        if link.get("delay_ms"):
            ids.append(self.apply({"technique": "delay", "ms": link["delay_ms"]}))
        for outage in doc.get("outages", []):
            ids.append(self.apply(dict(outage, technique="outage")))
        return ids


def main():
    ap = argparse.ArgumentParser(description="lab censor")
    ap.add_argument("--rundir")
    ap.add_argument("--tools-dir")
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("apply")
    a.add_argument("technique")
    a.add_argument("--names", default="")
    a.add_argument("--ips", default="")
    a.add_argument("--ports", default="")
    a.add_argument("--param", action="append", default=[], help="key=value (JSON value ok)")
    s = sub.add_parser("scenario")
    s.add_argument("file")
    r = sub.add_parser("remove")
    r.add_argument("id", type=int)
    sub.add_parser("clear")
    sub.add_parser("list")
    sub.add_parser("techniques")
    args = ap.parse_args()
    if args.cmd == "techniques":
        print("\n".join(TECHNIQUES))
        return 0
    if not args.rundir:
        ap.error("--rundir is required")
    try:
        c = Censor(args.rundir, args.tools_dir)
        if args.cmd == "apply":
            spec = {"technique": args.technique}
            if args.names:
                spec["names"] = args.names.split(",")
            if args.ips:
                spec["ips"] = args.ips.split(",")
            if args.ports:
                spec["ports"] = [int(p) for p in args.ports.split(",")]
            for kv in args.param:
                k, v = kv.split("=", 1)
                try:
                    spec[k] = json.loads(v)
                except ValueError:
                    spec[k] = v
            print(c.apply(spec))
        elif args.cmd == "scenario":
            with open(args.file) as f:
                print(" ".join(map(str, c.apply_scenario(json.load(f)))))
        elif args.cmd == "remove":
            c.remove(args.id)
        elif args.cmd == "clear":
            c.clear()
        elif args.cmd == "list":
            for e in c.state["applied"]:
                print(e["id"], e["technique"], json.dumps(e["spec"]))
    except (CensorError, OSError, KeyError) as e:
        print(f"censor.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
