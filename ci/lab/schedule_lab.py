#!/usr/bin/env python3
"""schedule_lab.py: a volunteer's unattended setup, run by Debian's cron in the lab.

As a new volunteer would: `vantage onboard --yes`, `vantage config set` the
collector (in the lab's control namespace) and the lab's catalog, then
`vantage schedule install --every 1m --jitter 0 --cron`. Debian's cron daemon,
started by this test inside the lab's client namespace, runs the scheduled
`vantage run --unattended` twice. Checks:
  - the collector received both runs' measurements (each run id, none twice);
  - the runs did not overlap (start/end lines of the run log, one after the other);
  - everything went to the log file, and an unattended run prints nothing;
  - both runs' measurements carry probe_asn/probe_cc/probe_network_name from
    the GeoIP database `config set location.asn_db/country_db` names (a test
    .mmdb made for the client's address as the collector's whoami sees it);
  - `vantage schedule status` shows the last run;
  - with a collector that accepts and never answers, an unattended run stops
    at --max-runtime (exit 124), and says so in the log and last-run.json.

cron never touches the machine's own crontab or cron jobs: it runs in a
private mount namespace where /var/spool/cron/crontabs, /etc/cron.d,
/etc/crontab and /run are the test's own (empty) copies; and it runs in the
client namespace, so its jobs can reach the lab's addresses only.

Takes 1.5-2.5 min of wall time (cron's resolution is a minute: up to a
minute until the first run, one more until the second), mostly sleeping.

  schedule_lab.py --vantage PATH --collector PATH [--keep]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

LAB_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, LAB_DIR)
import censor  # noqa: E402
from run_scenarios import COLLECTOR_ADDR, lab, start_collector  # noqa: E402

DEADLINE = 170  # seconds for the two scheduled runs, from installing the entry


# The test GeoIP database (probe/location/tests/data/make_mmdb.pl) maps the
# client's address, as the collector's whoami reports it, to these.
MAKE_MMDB = os.path.join(LAB_DIR, "..", "..", "probe", "location", "tests", "data", "make_mmdb.pl")
TEST_ASN, TEST_CC, TEST_NET = 64500, "DE", "Vantage Lab Volunteer ISP"


def expected_location(rundir):
    """The location every scheduled run's measurements must carry: what the
    test database volunteer_setup configured says of the client's address."""
    return {"probe_asn": f"AS{TEST_ASN}", "probe_cc": TEST_CC, "probe_network_name": TEST_NET}


def sh(cmd, env=None, check=True, **kw):
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} -> {p.returncode}\n{p.stdout}{p.stderr}")
    return p


def volunteer_setup(v, venv, env, rundir):
    """onboard, then `config set` what a volunteer would: the collector, the
    lab's catalog and CA, and GeoIP databases (a test one made for the
    address the collector sees the client at, found out as the probe does)."""
    sh([v, "onboard", "--yes"], venv)
    who = sh(["ip", "netns", "exec", env["NS_CLIENT"], "curl", "-sf", "--max-time", "5",
              f"http://{COLLECTOR_ADDR}/api/v1/whoami"])
    public_ip = json.loads(who.stdout).get("ip")
    if not public_ip or ":" in public_ip:
        raise RuntimeError(f"the collector's whoami answered {who.stdout!r}, wanted the client's IPv4 address")
    mmdb = os.path.join(rundir, "volunteer-geoip.mmdb")
    sh(["perl", MAKE_MMDB, mmdb, public_ip + "/32", str(TEST_ASN), TEST_NET, TEST_CC])
    print(f"# the collector sees the client as {public_ip}: AS{TEST_ASN} {TEST_CC} in {mmdb}")
    for key, value in (("collector.url", f"http://{COLLECTOR_ADDR}"),
                       ("run.catalog_dir", os.path.join(rundir, "catalog")),
                       ("run.ca_bundle", os.path.join(rundir, "pki", "lab-ca.pem")),
                       ("run.timeout", "30"),
                       ("location.asn_db", mmdb),
                       ("location.country_db", mmdb)):
        sh([v, "config", "set", key, value], venv)


def collected(env):
    r = sh(["ip", "netns", "exec", env["NS_CONTROL"], "curl", "-sf", "--max-time", "5",
            f"http://{COLLECTOR_ADDR}/api/v1/measurements?limit=1000&body=1"])
    return [row["measurement"] for row in json.loads(r.stdout)["results"]]


def run_log_intervals(log_text):
    """(start, end) of each unattended run in the log, by pid."""
    starts, ends = {}, {}
    for line in log_text.splitlines():
        m = re.match(r"(\S+) vantage\[(\d+)\]: unattended run (started|ended)", line)
        if m:
            (starts if m.group(3) == "started" else ends)[m.group(2)] = m.group(1)
    return sorted((starts[p], ends.get(p)) for p in starts)


def check_max_runtime(v, venv, env, data):
    """An upload to a collector that accepts and never answers: the
    unattended run must stop at --max-runtime (exit 124), say so in the log
    and in last-run.json, and keep its measurements in the spool."""
    hang = subprocess.Popen(["ip", "netns", "exec", env["NS_CONTROL"], sys.executable, "-c",
                             "import socket,time\n"
                             "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                             "s.bind(('198.18.5.10', 8099)); s.listen(8)\n"
                             "c=[]\n"
                             "end=time.time()+60\n"
                             "s.settimeout(1)\n"
                             "while time.time()<end:\n"
                             "  try: c.append(s.accept())\n"
                             "  except OSError: pass\n"],
                            stdin=subprocess.DEVNULL, start_new_session=True)
    problems = []
    try:
        time.sleep(0.5)
        t0 = time.monotonic()
        p = sh(["ip", "netns", "exec", env["NS_CLIENT"], v, "run", "--unattended", "--max-runtime", "10",
                "--upload", "--collector", "http://198.18.5.10:8099"], venv, check=False, timeout=60)
        took = time.monotonic() - t0
        state = json.load(open(os.path.join(data, "last-run.json")))
        log_text = open(os.path.join(data, "logs", "vantage.log")).read()
        print(f"# --max-runtime 10 with a hanging collector: exit {p.returncode} after {took:.1f} s, "
              f"state {state.get('result')}")
        if p.returncode != 124 or not 9 <= took <= 20:
            problems.append(f"--max-runtime 10: exit {p.returncode} after {took:.1f} s (want 124 after ~10 s)")
        if state.get("result") != "timed out" or "maximum run time (10 s) reached" not in log_text:
            problems.append(f"--max-runtime: state {state}, log does not say the maximum was reached")
        if "took longer than its maximum" not in p.stderr:
            problems.append(f"--max-runtime: stderr {p.stderr!r}")
    finally:
        os.killpg(hang.pid, 15)
        hang.wait()
    return problems


def main():
    ap = argparse.ArgumentParser(description="cron runs the scheduled probe in the lab")
    ap.add_argument("--vantage", required=True)
    ap.add_argument("--collector", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("schedule_lab.py: must run as root (network and mount namespaces)")
    for tool in ("cron", "crontab", "unshare"):
        if not shutil.which(tool):
            sys.exit(f"schedule_lab.py: needs {tool} (ci/install-deps.sh)")
    v = os.path.abspath(args.vantage)
    prefix = f"vk{os.getpid() % 100000}-"
    rundir = os.path.join("/tmp/vantage-lab", prefix.rstrip("-"))
    ok, cron = False, None
    problems = []
    try:
        lab("up", prefix, rundir)
        env = censor.load_env(rundir)
        start_collector(args.collector, env, rundir)
        home = os.path.join(rundir, "volunteer")
        venv = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home,
                "XDG_CONFIG_HOME": os.path.join(home, "config"),
                "XDG_DATA_HOME": os.path.join(home, "data"), "LANG": "C.UTF-8"}
        os.makedirs(home, exist_ok=True)
        volunteer_setup(v, venv, env, rundir)
        data = os.path.join(home, "data", "vantage", "results")
        log_file = os.path.join(data, "logs", "vantage.log")

        # The test's own cron world: spool, system crontabs, pid file.
        spool = os.path.join(rundir, "cron", "crontabs")
        os.makedirs(spool)
        os.makedirs(os.path.join(rundir, "cron", "cron.d"))
        os.makedirs(os.path.join(rundir, "cron", "run"))
        open(os.path.join(rundir, "cron", "crontab"), "w").close()
        shutil.chown(spool, group="crontab")
        os.chmod(spool, 0o1730)
        script = f"""
set -e
mount --make-rprivate /
mount --bind {spool} /var/spool/cron/crontabs
[ -d /etc/cron.d ] && mount --bind {rundir}/cron/cron.d /etc/cron.d
[ -f /etc/crontab ] && mount --bind {rundir}/cron/crontab /etc/crontab
mount -t tmpfs -o mode=0755 tmpfs /run
"{v}" schedule install --every 1m --jitter 0 --cron > {rundir}/cron/install.out
crontab -l > {rundir}/cron/crontab.installed
exec {shutil.which("cron")} -f
"""
        cron_log = open(os.path.join(rundir, "logs", "cron.log"), "w")
        cron = subprocess.Popen(["ip", "netns", "exec", env["NS_CLIENT"], "unshare", "--mount", "sh", "-c", script],
                                env=venv, stdout=cron_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        with open(os.path.join(rundir, "pids", "cron.pid"), "w") as f:
            f.write(str(cron.pid))
        installed_at = time.monotonic()
        time.sleep(1)
        if cron.poll() is not None:
            raise RuntimeError(f"cron exited ({cron.returncode}); see {cron_log.name}")
        entry = open(os.path.join(rundir, "cron", "crontab.installed")).read()
        if "* * * * * " not in entry or "run --unattended" not in entry:
            problems.append(f"unexpected crontab: {entry!r}")
        print(f"# crontab entry installed:\n{entry}", end="")

        # Wait for two finished runs.
        intervals = []
        while time.monotonic() - installed_at < DEADLINE:
            if os.path.exists(log_file):
                intervals = run_log_intervals(open(log_file).read())
                if len(intervals) >= 2 and all(e for _, e in intervals[:2]):
                    break
            if cron.poll() is not None:
                raise RuntimeError(f"cron exited ({cron.returncode}); see {cron_log.name}")
            time.sleep(2)
        took = time.monotonic() - installed_at
        print(f"# {len(intervals)} unattended runs after {took:.0f} s: {intervals}")
        os.killpg(cron.pid, 15)
        cron.wait(timeout=10)
        cron = None

        if len(intervals) < 2 or not all(e for _, e in intervals[:2]):
            problems.append(f"cron did not complete two runs in {DEADLINE} s (log: {log_file})")
        else:
            (s1, e1), (s2, e2) = intervals[:2]
            if s2 < e1:
                problems.append(f"runs overlap: first {s1}..{e1}, second {s2}..{e2}")
        log_text = open(log_file).read() if os.path.exists(log_file) else ""
        if "measured in" not in log_text:
            problems.append("the run's summary is not in the log file")
        if "failed" in "".join(l for l in log_text.splitlines() if "unattended run ended" in l):
            problems.append("a scheduled run failed: see " + log_file)

        # The collector has both runs, each measurement once.
        ms = collected(env)
        reports = {}
        for m in ms:
            reports.setdefault(m.get("measurement_start_time"), []).append(m.get("test_name"))
        print(f"# collector: {len(ms)} measurements in {len(reports)} runs")
        if len(reports) < 2:
            problems.append(f"the collector has {len(reports)} runs, wanted 2: {sorted(reports)}")
        for start, names in reports.items():
            if len(names) != len(set(names)):
                problems.append(f"run {start}: a measurement arrived twice: {names}")
        # Both scheduled runs located the network from the configured database.
        want = expected_location(rundir)
        located = set()
        for m in ms:
            wrong = {key: m.get(key) for key, value in want.items() if m.get(key) != value}
            if wrong:
                problems.append(f"run {m.get('measurement_start_time')} {m.get('test_name')}: {wrong}, wanted {want}")
            else:
                located.add(m.get("measurement_start_time"))
        print(f"# {len(located)} runs in the collector located as {want}")
        if len(located) < 2:
            problems.append(f"{len(located)} runs in the collector carry {want}, wanted 2")

        # status shows the last run; an unattended run says nothing on success.
        st = sh(["ip", "netns", "exec", env["NS_CLIENT"], v, "schedule", "status"], venv, check=False)
        if "last unattended run: " not in st.stdout or ": ok (exit 0)" not in st.stdout:
            problems.append(f"schedule status:\n{st.stdout}{st.stderr}")
        quiet = sh(["ip", "netns", "exec", env["NS_CLIENT"], v, "run", "--unattended"], venv, check=False)
        if quiet.returncode != 0 or quiet.stdout or quiet.stderr:
            problems.append(f"an unattended run printed (exit {quiet.returncode}): {quiet.stdout!r} {quiet.stderr!r}")
        problems += check_max_runtime(v, venv, env, data)
        ok = not problems
    except (RuntimeError, OSError, subprocess.TimeoutExpired, censor.CensorError) as e:
        problems.append(str(e))
    finally:
        if cron is not None and cron.poll() is None:
            os.killpg(cron.pid, 15)
        if args.keep:
            print(f"# lab {prefix} kept in {rundir}")
        else:
            lab("down", prefix, rundir, check=False)
            if ok:
                shutil.rmtree(rundir, ignore_errors=True)
            else:
                print(f"# kept {rundir} for inspection", file=sys.stderr)
    for p in problems:
        print("FAIL  " + p)
    print("PASS  cron ran the scheduled probe twice, no overlap, logs in the file" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
