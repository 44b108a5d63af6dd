#!/usr/bin/env python3
"""Probe benchmark (not a test): runs `vantage run all` in the censorship lab
and prints, per case, the wall time of the full suite against its lower
bound, and the probe's peak RSS.

Cases:
  clean_100ms  no censorship, 100 ms added RTT (50 ms each way):
               lower bound = the slowest endpoint's own chain (its DNS lookup
               plus its connect, handshake and request), target <= 1.5x;
  blackholed   every service address black-holed (the canary still works):
               lower bound = connect timeout + one retry, target <= 1.2x.
Each case runs with packet capture off and on. Peak RSS targets: <= 20 MB
without capture, <= 25 MB with it. (For scale: `curl --version` alone,
with the same libcurl and its ~45 shared libraries, peaks at ~12 MB here.)

Needs root (network namespaces). Usage:
  ci/bench/probe_bench.py --vantage build/probe/cli/vantage --tools-dir build/ci/lab/tools
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

LAB_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lab")
sys.path.insert(0, LAB_DIR)
import censor  # noqa: E402

CONNECT_TIMEOUT = 5.0


def lab(cmd, prefix, rundir):
    p = subprocess.run([os.path.join(LAB_DIR, "lab.sh"), cmd, "--prefix", prefix, "--rundir", rundir],
                       capture_output=True, text=True)
    if p.returncode != 0 and cmd == "up":
        raise RuntimeError(f"lab.sh up failed:\n{p.stdout}{p.stderr}")


def chain_seconds(keys, ep):
    """The endpoint's own chain: its DNS lookup plus its final attempt's steps."""
    total = 0.0
    for q in keys.get("queries", []):
        if q.get("transaction_id") == ep.get("dns_transaction_id"):
            total = max(total, q["t"] - q["t0"])
    tx = ep.get("transaction_id")
    if tx is not None:
        for arr in ("tcp_connect", "tls_handshakes", "requests"):
            for o in keys.get(arr, []):
                if o.get("transaction_id") == tx:
                    total += o["t"] - o["t0"]
    return total


def run_case(name, args, techniques, link, capture):
    prefix = f"vb{os.getpid() % 100000}{name[:2]}{int(capture)}-"
    rundir = f"/tmp/vantage-lab/{prefix.rstrip('-')}"
    try:
        lab("up", prefix, rundir)
        env = censor.load_env(rundir)
        c = censor.Censor(rundir, args.tools_dir)
        hosts = json.load(open(os.path.join(rundir, "hosts.json")))
        canary = {e["host"] for e in json.load(open(os.path.join(rundir, "catalog", "canary.json")))["endpoints"]}
        spec = {"techniques": [], "expect": {}}
        if techniques == "blackhole_services":
            ips = sorted({ip for h, ip in hosts.items() if h not in canary})
            spec["techniques"].append({"technique": "ip_blackhole", "ips": ips})
        if link:
            spec["link"] = link
        c.apply_scenario(spec)
        out = os.path.join(rundir, "measurements.jsonl")
        cmd = ["ip", "netns", "exec", env["NS_CLIENT"], args.vantage, "run", "all", "--no-progress",
               "--catalog", os.path.join(rundir, "catalog"),
               "--ca-bundle", os.path.join(rundir, "pki", "lab-ca.pem"),
               "--connect-timeout", str(CONNECT_TIMEOUT),
               "--output", out, "--results-dir", os.path.join(rundir, "results")]
        if not capture:
            cmd.append("--no-capture")
        # The probe's own configuration directory, with consent given as a
        # scripted install gives it.
        penv = dict(os.environ, XDG_CONFIG_HOME=os.path.join(rundir, "config"))
        subprocess.run([args.vantage, "onboard", "--yes"], env=penv, check=True, stdout=subprocess.DEVNULL)
        start = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=penv)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.monotonic() - start
        measurements = [json.loads(l) for l in open(out)]
        slowest = 0.0
        for m in measurements:
            for ep in m["test_keys"].get("x_endpoints", []):
                slowest = max(slowest, chain_seconds(m["test_keys"], ep))
        rss_mb = usage.ru_maxrss / 1024.0
        rss_target = 25 if capture else 20
        name = f"{name} ({'capture' if capture else 'no capture'})"
        if techniques == "blackhole_services":
            bound, target = 2 * CONNECT_TIMEOUT, 1.2
            bound_text = f"connect timeout + retry = {bound:.2f} s"
        else:
            bound, target = slowest, 1.5
            bound_text = f"slowest endpoint chain = {bound:.2f} s"
        ratio = wall / bound if bound > 0 else float("inf")
        verdicts = {m["test_name"]: m["test_keys"]["x_verdict"]["status"] for m in measurements}
        print(f"{name:25s} wall {wall:6.2f} s  {bound_text:36s} ratio {ratio:4.2f} (target <= {target})"
              f"  {'met' if ratio <= target else 'MISSED'}   peak RSS {rss_mb:5.1f} MB (target <= {rss_target})"
              f"  {'met' if rss_mb <= rss_target else 'MISSED'}   exit {os.waitstatus_to_exitcode(status)}  {verdicts}")
    finally:
        lab("down", prefix, rundir)
        shutil.rmtree(rundir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vantage", required=True)
    ap.add_argument("--tools-dir", required=True)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("probe_bench: needs root (network namespaces)")
    args.vantage = os.path.abspath(args.vantage)
    for capture in (False, True):
        run_case("clean_100ms", args, None, {"delay_ms": 50}, capture)
        run_case("blackholed", args, "blackhole_services", None, capture)


if __name__ == "__main__":
    main()
