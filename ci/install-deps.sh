#!/usr/bin/env bash
# Installs the Debian 12 packages Vantage needs. Idempotent and
# non-interactive; uses sudo when not run as root (CI is root).
#
#   ci/install-deps.sh [--run]       what building and running the probe, the
#                                    collector and the test helper need (the
#                                    README's quick start; the default)
#   ci/install-deps.sh --test|--all  that, plus everything the tests need: unit
#                                    tests, sanitizers, fuzzing, the censorship
#                                    lab, the stores, packaging (ci/test.sh)
#
# Add a package to the set that needs it, as its own commented group: the run
# set must stay what a volunteer installs.
set -euo pipefail

mode=run
case "${1:-}" in
  "" | --run) mode=run ;;
  --test | --all) mode=test ;;
  -h | --help)
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "install-deps.sh: unknown option '$1' (expected --run, --test or --all)" >&2
    exit 2
    ;;
esac

run_packages=(
  # build: compiler, CMake and the libraries the programs link
  build-essential cmake pkg-config
  libcurl4-openssl-dev libc-ares-dev libpcap-dev libssl-dev zlib1g-dev
  nlohmann-json3-dev libcli11-dev libsqlite3-dev
  # run: the system's trusted CAs (TLS checks, HTTPS uploads); setcap, to let
  # an installed probe capture packets without root
  ca-certificates libcap2-bin
  # probe configuration file (probe/config): TOML parser (header-only)
  libtomlplusplus-dev
  # location (probe/location): GeoIP .mmdb lookups
  libmaxminddb-dev
  # collector and test helper: RE2 for schema patterns (linear time),
  # libmicrohttpd for the hardened HTTP server layer (reports/server)
  libre2-dev libmicrohttpd-dev
  # analysis (vantage-analyze): simdjson for the streaming ingest
  libsimdjson-dev
)

test_packages=(
  # unit tests (-DVANTAGE_BUILD_TESTS=ON, the default); cpp-httplib for their
  # loopback HTTP(S) servers
  libgtest-dev libgmock-dev libcpp-httplib-dev
  # a compiler cache for repeated test builds (optional: ci/test.sh uses it when present)
  ccache
  # tests only: location tests write small .mmdb files
  libmaxmind-db-writer-perl
  # fuzz targets (probe/capture/fuzz, -DVANTAGE_FUZZ=ON): clang with libFuzzer
  clang libclang-rt-dev
  # lab: namespaces, censor, real servers, independent clients
  iproute2 iptables nftables unbound nginx-light bind9-dnsutils curl openssl
  libnetfilter-queue-dev procps psmisc
  python3 iputils-ping
  # lab --pcap-check: an independent reading of the probe's pcap
  tshark
  # schedule tests: the crontab the probe edits, and systemd-analyze verify
  # of the generated user units; the scheduling lab test runs Debian's cron
  cron systemd util-linux
  # collector store tests (ci/start-clickhouse.sh)
  clickhouse-server
  # packaging tests (ci/package-test.sh, packaging/check_cli_docs.py): man -w,
  # systemd-analyze verify of the units, the completions run in zsh and bash
  man-db systemd zsh bash-completion
  # dashboard tests (analysis/dashboard/tests/browser_test.mjs): headless Chromium
  chromium
  # analysis benchmark's baseline (analysis/bench): jq
  jq
)

packages=("${run_packages[@]}")
[ "$mode" = run ] || packages+=("${test_packages[@]}")
# dashboard build (analysis/dashboard, -DVANTAGE_DASHBOARD=ON, for the tests
# and the collector's /dashboard/): node and npm bundle the pages. Only when
# no npm is installed: a newer nodejs from another source already carries
# npm, and Debian's npm package would fight it.
if [ "$mode" != run ] && ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  # wireshark-common (tshark) asks whether to install dumpcap setuid: no.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo_cmd debconf-set-selections
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ "$mode" = test ]; then
  # The lab starts its own unbound and nginx inside namespaces; the packaged
  # services on the host are not wanted.
  for svc in unbound nginx; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
      systemctl stop "$svc" || true
    fi
  done
fi
