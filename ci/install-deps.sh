#!/usr/bin/env bash
# Installs every Debian package that building, testing and the censorship lab
# need. Idempotent and non-interactive; run as root (CI is root).
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config
  libcurl4-openssl-dev libc-ares-dev libpcap-dev libssl-dev zlib1g-dev
  nlohmann-json3-dev libcli11-dev libsqlite3-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev
  # fuzz targets (probe/capture/fuzz, -DVANTAGE_FUZZ=ON): clang with libFuzzer
  clang libclang-rt-dev
  # lab: namespaces, censor, real servers, independent clients
  iproute2 iptables nftables unbound nginx-light bind9-dnsutils curl openssl
  libnetfilter-queue-dev procps psmisc
  python3 iputils-ping
  # lab --pcap-check: an independent reading of the probe's pcap
  tshark
  # collector store tests (ci/start-clickhouse.sh)
  clickhouse-server
  # analysis (vantage-analyze): simdjson for the streaming ingest (build and
  # run); jq only for its benchmark's baseline (analysis/bench)
  libsimdjson-dev
  jq
)

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
# The lab starts its own unbound and nginx inside namespaces; the packaged
# services on the host are not wanted.
for svc in unbound nginx; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  fi
done
