#!/usr/bin/env python3
"""run_scenarios.py: runs the probe in every lab scenario and checks its verdicts.

For each scenario (ci/lab/scenarios/<name>.json): brings a fresh lab up,
applies the censor's techniques, runs `vantage run all` in the client
namespace, compares each service's x_verdict with the scenario's ground
truth, prints one row per scenario and service, and tears the lab down.

The services and their judged features come from the catalog the lab
measures (expectations.py), never from a list here. A scenario states only
what it changes: every service and feature it does not name is expected
`accessible` (or the scenario's `expect_others`), and is still checked.
Exits non-zero on any mismatch or error. It never judges anything itself
beyond comparing: the probe's verdict is the thing under test.

With --pcap-check the probe also writes its pcap, and tshark's reading of it
must agree with the probe's x_capture (per-flow packets and RSTs, DNS
responses per query; see pcap_check.py), and each service's anomaly types
must match the scenario's `expect_anomalies` ([] = none at all).

  run_scenarios.py --vantage PATH [--tools-dir DIR] [--testhelper PATH]
                   [--scenario NAME ...] [--keep] [--pcap-check]
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

LAB_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, LAB_DIR)
import censor  # noqa: E402
import expectations  # noqa: E402
import pcap_check  # noqa: E402

SCENARIO_DIR = os.path.join(LAB_DIR, "scenarios")
CATALOG_DIR = os.environ.get("LAB_CATALOG_DIR") or os.path.join(os.path.dirname(os.path.dirname(LAB_DIR)), "tests_catalog")
TESTHELPER_ADDR = "198.18.5.10:8080"
COLLECTOR_ADDR = "198.18.5.10:8081"


class Interrupted(Exception):
    pass


def on_signal(signum, _frame):
    raise Interrupted(f"signal {signum}")


def lab(cmd, prefix, rundir, check=True):
    p = subprocess.run([os.path.join(LAB_DIR, "lab.sh"), cmd, "--prefix", prefix,
                        "--rundir", rundir], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError(f"lab.sh {cmd} failed:\n{p.stdout}{p.stderr}")
    return p


def start_testhelper(path, env, rundir):
    log = open(os.path.join(rundir, "logs", "testhelper.log"), "w")
    p = subprocess.Popen(["ip", "netns", "exec", env["NS_CONTROL"], path,
                          "--listen", TESTHELPER_ADDR,
                          # The control trusts the lab CA and may reach lab addresses only.
                          "--ca-bundle", os.path.join(rundir, "pki", "lab-ca.pem"),
                          "--allow-net", "198.18.0.0/15", "--allow-net", "2001:2::/48"], stdout=log,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    with open(os.path.join(rundir, "pids", "testhelper.pid"), "w") as f:
        f.write(str(p.pid))
    host, port = TESTHELPER_ADDR.split(":")
    for _ in range(100):
        if p.poll() is not None:
            raise RuntimeError(f"vantage-testhelper exited ({p.returncode}); see {log.name}")
        r = subprocess.run(["ip", "netns", "exec", env["NS_CONTROL"], sys.executable, "-c",
                            "import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1)",
                            host, port], capture_output=True)
        if r.returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError("vantage-testhelper did not start listening on " + TESTHELPER_ADDR)


def start_collector(path, env, rundir):
    """vantage-collector in the control namespace, SQLite store in the run dir."""
    log = open(os.path.join(rundir, "logs", "collector.log"), "w")
    p = subprocess.Popen(["ip", "netns", "exec", env["NS_CONTROL"], path, "--listen", COLLECTOR_ADDR,
                          "--store", "sqlite:" + os.path.join(rundir, "collector.sqlite"), "--no-control"],
                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    with open(os.path.join(rundir, "pids", "collector.pid"), "w") as f:
        f.write(str(p.pid))
    for _ in range(100):
        if p.poll() is not None:
            raise RuntimeError(f"vantage-collector exited ({p.returncode}); see {log.name}")
        if collector_count(env) is not None:
            return
        time.sleep(0.1)
    raise RuntimeError("vantage-collector did not start on " + COLLECTOR_ADDR)


def collector_count(env):
    """How many measurements the lab collector stored, or None if it is not answering."""
    r = subprocess.run(["ip", "netns", "exec", env["NS_CONTROL"], "curl", "-sf", "--max-time", "2",
                        f"http://{COLLECTOR_ADDR}/api/v1/count"], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    try:
        return json.loads(r.stdout)["count"]
    except (ValueError, KeyError):
        return None


def probe_env(args, rundir):
    """The probe's environment: its own configuration directory in the run
    dir (never the host user's), where the volunteer's consent is given
    explicitly, as a scripted install would (`vantage onboard --yes`)."""
    penv = dict(os.environ, XDG_CONFIG_HOME=os.path.join(rundir, "config"))
    subprocess.run([args.vantage, "onboard", "--yes"], env=penv, check=True,
                   stdout=subprocess.DEVNULL)
    return penv


def check_upload(args, env, rundir, measurements):
    """After a run with --upload: every measurement is either acknowledged by
    the collector or still pending in the spool — never lost, never twice."""
    stored = collector_count(env)
    r = subprocess.run([args.vantage, "upload", "--list", "--json", "--results-dir",
                        os.path.join(rundir, "results")], capture_output=True, text=True,
                       env=probe_env(args, rundir))
    entries = [json.loads(l) for l in r.stdout.splitlines() if l.strip().startswith("{")]
    uploaded = sum(1 for e in entries if e.get("state") == "uploaded")
    kept = len(entries) - uploaded
    diffs = []
    if len(entries) != measurements:
        diffs.append(f"spool holds {len(entries)} measurements, the run wrote {measurements}")
    if stored != uploaded:
        diffs.append(f"collector stored {stored}, spool says {uploaded} uploaded")
    return uploaded, kept, diffs


def read_verdicts(path):
    verdicts = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                m = json.loads(line)
            except ValueError as e:
                raise RuntimeError(f"{path}:{n}: not JSON: {e}")
            name = m.get("test_name")
            v = (m.get("test_keys") or {}).get("x_verdict")
            if name and v is not None:
                verdicts[name] = v
    return verdicts


def compare(expected, got):
    """Returns a list of differences between one service's expected and actual verdict."""
    if got is None:
        return ["no measurement / no x_verdict"]
    diffs = []

    def check(where, exp, act):
        act = act or {}
        if exp.get("status") != act.get("status"):
            diffs.append(f"{where}status {exp.get('status')} != {act.get('status')}")
        if "methods" in exp and set(exp["methods"]) != set(act.get("methods") or []):
            diffs.append(f"{where}methods {sorted(exp['methods'])} != {sorted(act.get('methods') or [])}")
        if "confidence" in exp and exp["confidence"] != act.get("confidence"):
            diffs.append(f"{where}confidence {exp['confidence']} != {act.get('confidence')}")
        if "families" in exp and exp["families"] != act.get("families"):
            diffs.append(f"{where}families {json.dumps(exp['families'], sort_keys=True)} != "
                         f"{json.dumps(act.get('families'), sort_keys=True)}")

    check("", expected, got)
    for feat, exp in (expected.get("features") or {}).items():
        act = (got.get("features") or {}).get(feat)
        if act is None:
            diffs.append(f"feature {feat} missing")
        else:
            check(f"{feat}: ", exp, act)
    return diffs


def fmt(v):
    if not v:
        return "-"
    m = v.get("methods")
    return v.get("status", "?") + (f"[{','.join(sorted(m))}]" if m else "")


def run_scenario(name, args, index):
    with open(os.path.join(SCENARIO_DIR, name + ".json")) as f:
        doc = json.load(f)
    prefix = f"vs{os.getpid() % 100000}x{index}-"
    rundir = os.path.join("/tmp/vantage-lab", prefix.rstrip("-"))
    rows, ok = [], True
    try:
        lab("up", prefix, rundir)
        env = censor.load_env(rundir)
        if args.testhelper:
            start_testhelper(args.testhelper, env, rundir)
        if args.collector:
            start_collector(args.collector, env, rundir)
        censor.Censor(rundir, args.tools_dir).apply_scenario(doc)
        cmd = ["ip", "netns", "exec", env["NS_CLIENT"], args.vantage, "run", "all",
               "--catalog", os.path.join(rundir, "catalog"),
               "--ca-bundle", os.path.join(rundir, "pki", "lab-ca.pem"),
               "--output", os.path.join(rundir, "measurements.jsonl"),
               "--results-dir", os.path.join(rundir, "results")]
        if args.testhelper:
            cmd[7:7] = ["--control", f"http://{TESTHELPER_ADDR}/"]
        if args.collector:
            cmd += ["--upload", "--collector", f"http://{COLLECTOR_ADDR}"]
        if args.pcap_check:
            cmd += ["--pcap", os.path.join(rundir, "probe.pcap")]
        penv = probe_env(args, rundir)
        with open(os.path.join(rundir, "logs", "vantage.log"), "w") as log:
            p = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT,
                               timeout=args.probe_timeout, env=penv)
        out = os.path.join(rundir, "measurements.jsonl")
        if not os.path.exists(out):
            raise RuntimeError(f"vantage exited {p.returncode} without writing {out} "
                               f"(see {rundir}/logs/vantage.log)")
        verdicts = read_verdicts(out)
        services = expectations.load_services(os.path.join(rundir, "catalog"))
        for service, exp in expectations.expected(doc, services).items():
            diffs = compare(exp, verdicts.get(service))
            ok = ok and not diffs
            rows.append((name, service, fmt(exp), fmt(verdicts.get(service)),
                         "OK" if not diffs else "MISMATCH", diffs))
        with open(out) as f:
            measured = [json.loads(l) for l in f if l.strip()]
        # The lab has IPv6 (no default route): every run must find it usable
        # and measure it, or say why not (`expect_ipv6`: the x_ipv6.usable
        # every measurement must give; default true).
        want6 = doc.get("expect_ipv6", True)
        got6 = sorted({json.dumps(((m.get("test_keys") or {}).get("x_ipv6") or {}).get("usable"))
                       for m in measured})
        diffs = [] if got6 == [json.dumps(want6)] else [f"x_ipv6.usable {', '.join(got6)} != {json.dumps(want6)}"]
        ok = ok and not diffs
        rows.append((name, "(ipv6)", f"usable={json.dumps(want6)}", f"usable={','.join(got6)}",
                     "OK" if not diffs else "MISMATCH", diffs))
        for service, diffs in expectations.check_keys(doc, measured):
            ok = ok and not diffs
            rows.append((name, f"({service} keys)", "expect_keys", f"{len(diffs)} differences",
                         "OK" if not diffs else "MISMATCH", diffs))
        if args.collector:
            # "all": every measurement acknowledged; "kept": none could be
            # (e.g. the client is offline) and all wait in the spool.
            want = doc.get("expect_upload", "all")
            uploaded, kept, diffs = check_upload(args, env, rundir, len(verdicts))
            if want == "all" and kept:
                diffs.append(f"{kept} measurements not uploaded")
            if want == "kept" and uploaded:
                diffs.append(f"{uploaded} measurements uploaded while none could be")
            ok = ok and not diffs
            rows.append((name, "(upload)", want, f"uploaded={uploaded} kept={kept}",
                         "OK" if not diffs else "MISMATCH", diffs))
        if args.pcap_check:
            with open(out) as f:
                measurements = [json.loads(line) for line in f if line.strip()]
            lines, diffs = pcap_check.cross_check(os.path.join(rundir, "probe.pcap"), measurements)
            ok = ok and not diffs
            rows.append((name, "(pcap)", "tshark agrees", f"{len(diffs)} differences",
                         "OK" if not diffs else "MISMATCH", lines + [f"DIFF {d}" for d in diffs]))
            lines, diffs = pcap_check.check_expected(doc, measurements)
            if "expect_anomalies" in doc:
                ok = ok and not diffs
                rows.append((name, "(anomaly)", "expect_anomalies", f"{len(diffs)} differences",
                             "OK" if not diffs else "MISMATCH", lines + [f"DIFF {d}" for d in diffs]))
    except (RuntimeError, censor.CensorError, expectations.ScenarioError, subprocess.TimeoutExpired,
            OSError) as e:
        ok = False
        rows.append((name, "-", "-", "-", "ERROR", [str(e)]))
    finally:
        if args.keep:
            print(f"# lab {prefix} kept: enter it with `ip netns exec {prefix}client bash`;"
                  f" remove it with `{LAB_DIR}/lab.sh down --prefix {prefix} --rundir {rundir}`")
        else:
            lab("down", prefix, rundir, check=False)
            if ok:
                shutil.rmtree(rundir, ignore_errors=True)
            else:
                print(f"# kept {rundir} for inspection", file=sys.stderr)
    return ok, rows


def main():
    ap = argparse.ArgumentParser(description="runs the lab scenarios against the probe")
    ap.add_argument("--vantage", required=True)
    ap.add_argument("--tools-dir", default=os.environ.get("LAB_TOOLS_DIR"))
    ap.add_argument("--testhelper")
    ap.add_argument("--collector", help="vantage-collector binary: run one in the control namespace "
                    "and have the probe upload to it")
    ap.add_argument("--scenario", action="append", default=[])
    ap.add_argument("--keep", action="store_true", help="leave each lab up")
    ap.add_argument("--probe-timeout", type=int, default=240)
    ap.add_argument("--pcap-check", action="store_true",
                    help="have the probe write its pcap and check x_capture against tshark's reading")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run_scenarios.py: must run as root (network namespaces)")
    for what, path in (("vantage", args.vantage), ("testhelper", args.testhelper), ("collector", args.collector)):
        if path and not os.access(path, os.X_OK):
            sys.exit(f"run_scenarios.py: {what} binary {path} is missing or not executable")
    if args.pcap_check and not shutil.which("tshark"):
        sys.exit("run_scenarios.py: --pcap-check needs tshark (ci/install-deps.sh)")
    names = args.scenario or sorted(f[:-5] for f in os.listdir(SCENARIO_DIR) if f.endswith(".json"))
    for n in names:
        path = os.path.join(SCENARIO_DIR, n + ".json")
        if not os.path.exists(path):
            sys.exit(f"run_scenarios.py: no scenario {n}")
        try:  # a scenario that names what the catalog lacks fails before any lab is up
            with open(path) as f:
                expectations.expected(json.load(f), expectations.load_services(CATALOG_DIR))
        except (ValueError, expectations.ScenarioError) as e:
            sys.exit(f"run_scenarios.py: scenario {n}: {e}")
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    all_ok = True
    print(f"{'scenario':32} {'service':18} {'expected':28} {'got':28} result")
    try:
        for i, name in enumerate(names):
            ok, rows = run_scenario(name, args, i)
            all_ok = all_ok and ok
            for r in rows:
                print(f"{r[0]:32} {r[1]:18} {r[2]:28} {r[3]:28} {r[4]}")
                for d in r[5]:
                    print(f"    {d}")
            sys.stdout.flush()
    except Interrupted as e:
        print(f"run_scenarios.py: interrupted ({e}); labs torn down", file=sys.stderr)
        return 130
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
