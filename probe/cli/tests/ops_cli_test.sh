#!/usr/bin/env bash
# The volunteer-operations commands as a volunteer types them: each error of
# the configuration, consent and schedule commands checked for its message
# and exit code. Runs the real binary with its own HOME and XDG directories
# (never the host user's) and touches no network.
# Usage: ops_cli_test.sh PATH/TO/vantage
set -uo pipefail
V=$1
T=$(mktemp -d /tmp/vantage-ops-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
export HOME=$T/home XDG_CONFIG_HOME=$T/config XDG_DATA_HOME=$T/data
mkdir -p "$HOME"
fails=0

# expect CODE 'substring of stdout+stderr' command...
expect() {
  local want=$1 text=$2; shift 2
  local out rc
  out=$("$@" 2>&1 </dev/null); rc=$?
  if [ "$rc" != "$want" ] || [[ "$out" != *"$text"* ]]; then
    echo "FAIL: $* -> exit $rc (want $want), output:"; echo "$out" | sed 's/^/    /'
    echo "    (wanted to contain: $text)"
    fails=$((fails + 1))
  else
    echo "ok    $* -> $rc"
  fi
}

# A fake crontab and systemctl come first on PATH: no test may reach the
# machine's real crontab or systemd.
FAKE=$T/bin
mkdir -p "$FAKE" "$T/empty-path"
cat > "$FAKE/crontab" <<EOS
#!/bin/sh
case "\$1" in
  -l) [ -f "$T/crontab" ] && cat "$T/crontab" || { echo "no crontab for test" >&2; exit 1; } ;;
  -) cat > "$T/crontab" ;;
  *) exit 2 ;;
esac
EOS
# And a systemctl whose user instance never answers, as on a machine
# without one: no test may reach the real systemd either.
printf '#!/bin/sh\necho "Failed to connect to bus: No medium found" >&2\nexit 1\n' > "$FAKE/systemctl"
chmod +x "$FAKE/crontab" "$FAKE/systemctl"
export PATH=$FAKE:/usr/bin:/bin

CONF=$XDG_CONFIG_HOME/vantage/vantage.conf
# --- configuration ---
expect 0 "run.timeout = 30" "$V" config set run.timeout 30
expect 2 'run.timeout: expected a number of seconds from 1 to 3600 (the whole run), got "soon"' "$V" config set run.timeout soon
expect 2 'unknown key "run.speed"' "$V" config set run.speed 3
expect 0 "30" "$V" config get run.timeout
expect 1 "run.parallelism is not set" "$V" config get run.parallelism
expect 0 "timeout = 30  # from $CONF:2" "$V" config show
printf '[run]\ntimeout = 30\n\n[location]\nprobe_cc = "germany"\n' > "$CONF"
expect 2 "$CONF:5: location.probe_cc: expected a country code of two uppercase letters" "$V" list
expect 2 "$CONF:5: location.probe_cc" "$V" config show
printf '[run]\ntimeout = 30\n' > "$CONF"
expect 2 "$T/none.conf: no such file" "$V" --config "$T/none.conf" list
printf '[collector]\nurl = "http://127.0.0.1:9/"\n' > "$T/other.conf"
expect 0 "http://127.0.0.1:9/" "$V" --config "$T/other.conf" config get collector.url
expect 1 "run.timeout is not set" "$V" --config "$T/other.conf" config get run.timeout

# --- consent ---
CATALOG=$T/catalog
mkdir -p "$CATALOG"
expect 3 "first read what running Vantage can mean for you, and agree: run \`vantage onboard\`" "$V" run --catalog "$CATALOG"
expect 3 "run \`vantage onboard\`" "$V" upload --collector http://127.0.0.1:9/
expect 0 "measurements in" "$V" upload --list
expect 3 "run \`vantage onboard\`" "$V" schedule install --cron
[ ! -e "$T/crontab" ] && echo "ok    no crontab written without consent" || { echo "FAIL: crontab written without consent"; fails=$((fails + 1)); }
expect 3 "nothing recorded" "$V" onboard
out=$(printf 'a\nc\nno\n' | "$V" onboard 2>&1); rc=$?
[ $rc = 3 ] && [ ! -e "$XDG_CONFIG_HOME/vantage/consent.json" ] && echo "ok    onboard, declined -> 3" || { echo "FAIL: declined onboard -> $rc"; fails=$((fails + 1)); }
out=$(printf 'c\nyes\n' | "$V" onboard 2>&1); rc=$?
[ $rc = 0 ] && [ "$(stat -c %a "$XDG_CONFIG_HOME/vantage/consent.json")" = 600 ] && echo "ok    onboard, agreed -> 0, record 0600" || { echo "FAIL: onboard -> $rc: $out"; fails=$((fails + 1)); }
# Consent given: the run gets past it (and stops at the empty catalog).
expect 2 "catalog" "$V" run --catalog "$CATALOG"
echo '{"version": 999, "agreed_at": "2026-01-01T00:00:00Z"}' > "$XDG_CONFIG_HOME/vantage/consent.json"
expect 3 "has changed since you agreed (version 999" "$V" run --catalog "$CATALOG"
expect 0 "Anyone who can watch your network traffic" "$V" onboard --yes
expect 2 "catalog" "$V" run --catalog "$CATALOG"

# --- schedule
expect 2 '--every 7m: the interval must divide the day' "$V" schedule install --cron --every 7m
expect 2 '--every: expected a duration such as 90s, 30m, 6h or 1d, got "often"' "$V" schedule install --cron --every often
expect 2 '--jitter 2h must be shorter than --every 1h' "$V" schedule install --cron --every 1h --jitter 2h
expect 2 '--systemd excludes --cron' "$V" schedule install --cron --systemd
expect 0 'no schedule installed' "$V" schedule status
echo "MAILTO=someone" > "$T/crontab"
expect 0 '*/15 * * * * sleep $(shuf -i 0-60 -n 1) && XDG_CONFIG_HOME=' "$V" schedule install --cron --every 15m --jitter 1m
expect 0 "0 */6 * * * sleep \$(shuf -i 0-1800 -n 1) && XDG_CONFIG_HOME=$XDG_CONFIG_HOME XDG_DATA_HOME=$XDG_DATA_HOME $(readlink -f "$V") run --unattended" "$V" schedule install --cron
[ "$(grep -c vantage-schedule "$T/crontab")" = 1 ] && grep -q '^MAILTO=someone$' "$T/crontab" && echo "ok    install twice: one entry, other lines kept" || { echo "FAIL: crontab after two installs:"; cat "$T/crontab"; fails=$((fails + 1)); }
expect 0 'crontab entry:' "$V" schedule status
# One schedule at a time: a timer left by an earlier --systemd install goes.
mkdir -p "$XDG_CONFIG_HOME/systemd/user"
echo "[Timer]" > "$XDG_CONFIG_HOME/systemd/user/vantage.timer"
expect 0 "systemd user timer" "$V" schedule status
expect 0 "installed in your crontab" "$V" schedule install --cron
[ ! -e "$XDG_CONFIG_HOME/systemd/user/vantage.timer" ] && echo "ok    cron install removed the old timer" || { echo "FAIL: old timer kept"; fails=$((fails + 1)); }
expect 0 'removed the crontab entry' "$V" schedule remove
[ "$(cat "$T/crontab")" = "MAILTO=someone" ] && echo "ok    remove: other lines kept" || { echo "FAIL: crontab after remove:"; cat "$T/crontab"; fails=$((fails + 1)); }
expect 0 'nothing to remove' "$V" schedule remove
# Without systemd answering: --systemd is refused; without crontab, so is cron.
expect 4 '--systemd: no user systemd instance answers' "$V" schedule install --systemd
expect 4 "no \`crontab\` program on PATH" env PATH="$T/empty-path" "$V" schedule install --cron
expect 4 "no \`crontab\` program on PATH" env PATH="$T/empty-path" "$V" schedule install

# --- unattended run (no measuring outside the lab: an empty catalog) ---
DATA=$XDG_DATA_HOME/vantage/results
LOG=$DATA/logs/vantage.log
mkdir -p "$DATA"
flock "$DATA/.run.lock" sleep 3 &
holder=$!
sleep 0.3
expect 0 "" "$V" run --unattended --catalog "$CATALOG"
out=$("$V" run --unattended --catalog "$CATALOG" 2>&1)
[ -z "$out" ] && grep -q "another vantage run is in progress.*this scheduled run is skipped" "$LOG" && echo "ok    unattended, lock held: silent, noted in the log" || { echo "FAIL: unattended with the lock held: '$out'"; cat "$LOG"; fails=$((fails + 1)); }
expect 1 "another vantage run is in progress (it holds $DATA/.run.lock); try again when it has ended" "$V" run --catalog "$CATALOG"
wait $holder
expect 2 "vantage: the scheduled run failed (exit 2); see $LOG" "$V" run --unattended --catalog "$CATALOG"
grep -q "catalog error" "$LOG" && grep -q "unattended run ended: failed (exit 2)" "$LOG" && echo "ok    unattended failure: details in the log" || { echo "FAIL: log lacks the failure:"; cat "$LOG"; fails=$((fails + 1)); }
expect 0 "failed (exit 2)" "$V" schedule status

# GnuTLS (loaded with libcurl, never used) asks the probe whether to skip its
# load-time initialisation (gnutls_no_implicit_init.cpp): the dynamic linker
# must bind that question to the probe's answer, not GnuTLS's own default.
libs=$(ldd "$V")
bindings=$(LD_DEBUG=bindings "$V" --version 2>&1 >/dev/null)
if [[ "$libs" != *libgnutls* ]]; then
  echo "ok    GnuTLS is not loaded at all: nothing to skip"
elif grep -q "libgnutls.* to $V .*_gnutls_global_init_skip" <<<"$bindings"; then
  echo "ok    GnuTLS's implicit initialisation is answered by the probe"
else
  echo "FAIL: GnuTLS's _gnutls_global_init_skip is not bound to the probe (see --export-dynamic-symbol)"; fails=$((fails + 1))
fi

if [ $fails -gt 0 ]; then echo "$fails FAILED"; exit 1; fi
echo "all passed"
