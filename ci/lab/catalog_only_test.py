#!/usr/bin/env python3
"""catalog_only_test.py: a service added by one catalog file, and no code.

Writes a temporary catalog directory holding two files derived from
tests_catalog/canary.json: the canary itself, and a copy of its shape under
a new service name (`catalog_only_demo`, its own feature and the OONI key
names its feature carries). Every host is renamed into lab.vantage, so no
real name is even looked up. Then, in a network namespace of its own (a
unique prefix, loopback only: no route to anywhere, so nothing the probe
sends can leave), it runs `vantage catalog check`, `vantage run
catalog_only_demo` and `vantage run all`, and checks that each run made
exactly one measurement with that test_name, its catalog's features and OONI
keys, and an `inconclusive` verdict: with no network, the canary fails, and a
probe whose own network fails judges nothing. The probe binary is the one
built from the tree: nothing in it knows the new name.

  catalog_only_test.py --vantage PATH [--keep]

Needs root (it creates a namespace). Exits non-zero, saying why, on any
difference. Takes a few seconds.
"""
import argparse
import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

LAB_DIR = os.path.dirname(os.path.abspath(__file__))
CATALOG_DIR = os.path.join(os.path.dirname(os.path.dirname(LAB_DIR)), "tests_catalog")
NAME = "catalog_only_demo"
FEATURE = "web"
OONI_STATUS = NAME + "_web_status"
OONI_FAILURE = NAME + "_web_failure"
# An address in the lab's range with no route to it: the resolver's queries
# fail at once, inside the namespace.
RESOLVER = "198.18.0.53"


class Interrupted(Exception):
    pass


def on_signal(signum, _frame):
    raise Interrupted(f"signal {signum}")


def rename_hosts(service, label):
    """Every endpoint's host (and its url's host) moved into lab.vantage."""
    for i, ep in enumerate(service["endpoints"]):
        host = f"{label}{i + 1}.lab.vantage"
        if "url" in ep:
            ep["url"] = ep["url"].replace(ep["host"], host, 1)
        ep["host"] = host


def write_catalog(dst):
    with open(os.path.join(CATALOG_DIR, "canary.json")) as f:
        canary = json.load(f)
    demo = copy.deepcopy(canary)
    demo.pop("kind", None)  # a service, not the canary
    demo["service"] = demo["test_name"] = NAME
    demo["description"] = "A service that exists only as this catalog file."
    feature = next(iter(demo["features"].values()))
    feature["description"] = "the demo's web servers"
    feature["ooni_keys"] = {"status": OONI_STATUS, "failure": OONI_FAILURE}
    demo["features"] = {FEATURE: feature}
    for ep in demo["endpoints"]:
        ep["feature"] = FEATURE
    rename_hosts(demo, "www")
    rename_hosts(canary, "canary")
    for doc in (canary, demo):
        with open(os.path.join(dst, doc["service"] + ".json"), "w") as f:
            json.dump(doc, f, indent=2)
    return demo


def check_measurements(what, stdout, demo):
    """The differences between the run's output and what the catalog says."""
    lines = [l for l in stdout.splitlines() if l.strip()]
    try:
        ms = [json.loads(l) for l in lines]
    except ValueError as e:
        return [f"{what}: output is not JSON Lines: {e}"]
    if len(ms) != 1:
        return [f"{what}: {len(ms)} measurements, expected 1 ({NAME} only)"]
    m, diffs = ms[0], []
    tk = m.get("test_keys") or {}
    v = tk.get("x_verdict") or {}
    if m.get("test_name") != NAME:
        diffs.append(f"test_name {m.get('test_name')!r} != {NAME!r}")
    if m.get("test_version") != demo["test_version"]:
        diffs.append(f"test_version {m.get('test_version')!r} != {demo['test_version']!r}")
    want_features = {k: {"rule": f["rule"], "description": f["description"], "judged": True}
                     for k, f in demo["features"].items()}
    if tk.get("x_features") != want_features:
        diffs.append(f"x_features {tk.get('x_features')} != {want_features}")
    hosts = sorted({e.get("host") for e in tk.get("x_endpoints") or []})
    want_hosts = sorted(e["host"] for e in demo["endpoints"])
    if hosts != want_hosts:
        diffs.append(f"x_endpoints hosts {hosts} != {want_hosts}")
    if v.get("status") != "inconclusive":
        diffs.append(f"x_verdict.status {v.get('status')!r} != 'inconclusive'")
    if (v.get("features") or {}).get(FEATURE, {}).get("status") != "inconclusive":
        diffs.append(f"x_verdict.features.{FEATURE} {(v.get('features') or {}).get(FEATURE)} is not inconclusive")
    if v.get("canary") != "failed" or (tk.get("x_canary") or {}).get("status") != "failed":
        diffs.append(f"the canary should have failed (no network): x_verdict.canary {v.get('canary')!r}, "
                     f"x_canary {tk.get('x_canary')}")
    # The OONI keys the catalog names: nothing worked, so the feature is
    # "blocked" in OONI's two-valued terms, with the first failure.
    if tk.get(OONI_STATUS) != "blocked":
        diffs.append(f"{OONI_STATUS} {tk.get(OONI_STATUS)!r} != 'blocked'")
    if not isinstance(tk.get(OONI_FAILURE), str):
        diffs.append(f"{OONI_FAILURE} {tk.get(OONI_FAILURE)!r} is not a failure string")
    return [f"{what}: {d}" for d in diffs]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vantage", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the run directory")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("catalog_only_test.py: needs root (it creates a network namespace)")
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    ns = f"vco{os.getpid() % 100000}-client"
    netns_etc = os.path.join("/etc/netns", ns)
    rundir = tempfile.mkdtemp(prefix="vantage-catalog-only-")
    diffs = []
    try:
        subprocess.run(["ip", "netns", "add", ns], check=True)
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        routes = subprocess.run(["ip", "-n", ns, "route", "show", "default"], capture_output=True,
                                text=True, check=True).stdout.strip()
        if routes:
            raise RuntimeError(f"namespace {ns} has a default route: {routes}")
        os.makedirs(netns_etc, exist_ok=True)
        with open(os.path.join(netns_etc, "resolv.conf"), "w") as f:
            f.write(f"nameserver {RESOLVER}\n")
        catalog = os.path.join(rundir, "catalog")
        os.makedirs(catalog)
        demo = write_catalog(catalog)
        env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(rundir, "config"))
        subprocess.run([args.vantage, "onboard", "--yes"], env=env, check=True, stdout=subprocess.DEVNULL)

        check = subprocess.run([args.vantage, "catalog", "check", catalog], env=env,
                               capture_output=True, text=True)
        if check.returncode != 0:
            diffs.append(f"vantage catalog check {catalog}: exit {check.returncode}: {check.stdout}{check.stderr}")
        for i, names in enumerate(([NAME], ["all"])):
            what = "vantage run " + " ".join(names)
            cmd = ["ip", "netns", "exec", ns, args.vantage, "run", *names, "--catalog", catalog,
                   "--results-dir", os.path.join(rundir, f"results{i}"), "--json", "--no-capture",
                   "--no-progress", "--no-upload", "--timeout", "20"]
            p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
            with open(os.path.join(rundir, f"run{i}.jsonl"), "w") as f:
                f.write(p.stdout)
            if p.returncode != 0:
                diffs.append(f"{what}: exit {p.returncode}: {p.stderr.strip()}")
                continue
            diffs += check_measurements(what, p.stdout, demo)
    except (Interrupted, RuntimeError, OSError, subprocess.SubprocessError) as e:
        diffs.append(f"error: {e}")
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(netns_etc, ignore_errors=True)
        if args.keep or diffs:
            print(f"# run directory kept: {rundir}")
        else:
            shutil.rmtree(rundir, ignore_errors=True)
    for d in diffs:
        print("FAIL " + d)
    if not diffs:
        print(f"ok: {NAME} from one catalog file: test_name, features, OONI keys, inconclusive verdict")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
