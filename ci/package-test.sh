#!/usr/bin/env bash
# Checks what Vantage installs, from a built build directory:
#
#   ci/package-test.sh --prefix-only BUILD_DIR
#       `cmake --install` into a scratch prefix: every file in its place, the
#       installed probe runs and uses the installed catalogs, the man pages
#       render, the completions parse. No root. (ctest: package_install_prefix)
#   ci/package-test.sh BUILD_DIR          (root; BUILD_DIR configured with
#                                          -DCMAKE_INSTALL_PREFIX=/usr)
#       that, then `cpack -G DEB`: the .deb's fields and Depends, `dpkg -i` and
#       `apt-get -f install`, the installed programs run, `man -w` finds the
#       pages, `systemd-analyze verify` accepts the units; then the package is
#       purged, leaving the machine as it was. Refuses to run when a package
#       named vantage is already installed.
# (grep's output goes to /dev/null rather than -q: with pipefail, a writer
# killed by SIGPIPE when grep -q stops early would turn a match into a failure.)
# Exit status: 0 all good, 1 a check failed (the message says which), 2 usage.
set -euo pipefail

prefix_only=0
if [ "${1:-}" = --prefix-only ]; then
  prefix_only=1
  shift
fi
if [ $# -ne 1 ] || [ ! -f "$1/CMakeCache.txt" ]; then
  echo "usage: ci/package-test.sh [--prefix-only] BUILD_DIR (a configured and built build directory)" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
work=$(mktemp -d /tmp/vantage-package-test.XXXXXX)
installed_deb=0
cleanup() {
  if [ "$installed_deb" = 1 ]; then
    flock /tmp/vantage-apt.lock dpkg --purge vantage >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "package-test: FAIL: $*" >&2
  exit 1
}
check_file() { [ -f "$1" ] || fail "not installed: $1"; }

# What every install holds, relative to its prefix.
installed_files=(
  bin/vantage bin/vantage-collector bin/vantage-testhelper
  share/vantage/tests_catalog/whatsapp.json share/vantage/tests_catalog/signal.json
  share/vantage/tests_catalog/wechat.json share/vantage/tests_catalog/canary.json
  share/vantage/tests_catalog/catalog.schema.json share/vantage/tests_catalog/signal-ca.pem
  share/man/man1/vantage.1.gz share/man/man8/vantage-collector.8.gz share/man/man8/vantage-testhelper.8.gz
  share/bash-completion/completions/vantage share/bash-completion/completions/vantage-collector
  share/bash-completion/completions/vantage-testhelper
  share/zsh/vendor-completions/_vantage share/zsh/vendor-completions/_vantage-collector
  share/zsh/vendor-completions/_vantage-testhelper
  lib/systemd/system/vantage-collector.service lib/systemd/system/vantage-testhelper.service
)
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")

# The installed programs under PREFIX run, and the probe's default catalog is
# the one installed with it (its --help shows the default).
check_programs() {
  local prefix=$1
  "$prefix/bin/vantage" --version | grep -x "vantage $version" >/dev/null || fail "$prefix/bin/vantage --version is not 'vantage $version'"
  "$prefix/bin/vantage-collector" --help >/dev/null || fail "$prefix/bin/vantage-collector --help failed"
  "$prefix/bin/vantage-testhelper" --help >/dev/null || fail "$prefix/bin/vantage-testhelper --help failed"
  "$prefix/bin/vantage" run --help | grep -- "--catalog TEXT:DIR=$prefix/share/vantage/tests_catalog\$" >/dev/null ||
    fail "$prefix/bin/vantage does not use $prefix/share/vantage/tests_catalog by default"
  "$prefix/bin/vantage" catalog check "$prefix/share/vantage/tests_catalog" >"$work/catalog-check.txt" ||
    fail "vantage catalog check $prefix/share/vantage/tests_catalog failed"
  [ "$(grep -c ': ok' "$work/catalog-check.txt")" -ge 4 ] || fail "catalog check found fewer than 4 catalogs"
}

echo "== cmake --install into a scratch prefix"
stage="$work/prefix"
cmake --install "$build" --prefix "$stage" >"$work/install.log" || { cat "$work/install.log"; fail "cmake --install"; }
for f in "${installed_files[@]}"; do check_file "$stage/$f"; done
check_programs "$stage"
for page in man1/vantage.1 man8/vantage-collector.8 man8/vantage-testhelper.8; do
  out=$(MANWIDTH=80 man --warnings -l "$stage/share/man/$page.gz" 2>&1 >/dev/null) || fail "man -l $page"
  [ -z "$out" ] || fail "man $page: $out"
done
for f in "$stage"/share/bash-completion/completions/*; do bash -n "$f" || fail "bash -n $f"; done
grep -q "^ExecStart=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")/bin/vantage-collector " \
  "$stage/lib/systemd/system/vantage-collector.service" || fail "vantage-collector.service does not start the installed binary"
echo "ok: ${#installed_files[@]} files installed; the installed probe uses its installed catalogs"
[ "$prefix_only" = 1 ] && exit 0

# --- the .deb --------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || fail "the .deb check installs a package: run as root (or use --prefix-only)"
grep -qx "CMAKE_INSTALL_PREFIX:PATH=/usr" "$build/CMakeCache.txt" ||
  fail "$build is not configured with -DCMAKE_INSTALL_PREFIX=/usr (a .deb installs into /usr)"
if dpkg-query -W -f='${Status}' vantage 2>/dev/null | grep "ok installed" >/dev/null; then
  fail "a package named vantage is already installed; this check would replace it"
fi

echo "== cpack -G DEB"
(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/deb" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log"; fail "cpack -G DEB"; }
deb=$(ls "$work"/deb/vantage_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { cat "$work/cpack.log"; fail "cpack made no vantage_*.deb"; }
field() { dpkg-deb -f "$deb" "$1"; }
echo "$(basename "$deb"): Depends: $(field Depends)"
[ "$(field Package)" = vantage ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version), expected $version"
[ "$(field Section)" = net ] || fail "Section: $(field Section)"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
field Description | sed -n 2p | grep "WhatsApp, Signal and WeChat" >/dev/null || fail "no long Description"
# dpkg-shlibdeps is on (a few libraries every build links; the DT_NEEDED
# check below covers the rest, whatever the programs link), and the CAs.
for dep in libc6 libstdc++6 libcurl4 libssl3 libc-ares2 libpcap0.8 libsqlite3-0 zlib1g ca-certificates; do
  field Depends | tr ',' '\n' | grep "^ *$dep\b" >/dev/null || fail "Depends lacks $dep: $(field Depends)"
done
# Every shared library the programs name (DT_NEEDED) belongs to a package in
# Depends: what a clean machine would lack shows up here too.
dpkg-deb -x "$deb" "$work/unpacked"
ldconfig -p >"$work/ldconfig.txt"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
depends=" $(field Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//' | tr '\n' ' ') "
for b in vantage vantage-collector vantage-testhelper; do
  for soname in $(readelf -d "$work/unpacked/usr/bin/$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    lib=$(awk -v so="$soname" -v dir="/$multiarch/" '$1 == so && index($NF, dir) && !found { print $NF; found = 1 }' \
      "$work/ldconfig.txt")
    [ -n "$lib" ] || fail "/usr/bin/$b needs $soname, which this machine does not have"
    # By its last two path parts: with merged /usr, dpkg may know it under
    # /lib or /usr/lib (and lib32 holds files of the same name).
    real=$(readlink -f "$lib")
    pkg=$(dpkg -S "*/$(basename "$(dirname "$real")")/$(basename "$real")" 2>/dev/null |
      awk -F: 'NR == 1 { print $1 }') || true
    [ -n "$pkg" ] || fail "/usr/bin/$b needs $soname ($lib), which no package provides"
    [[ $depends == *" $pkg "* ]] || fail "/usr/bin/$b needs $soname from $pkg, which Depends lacks: $(field Depends)"
  done
done
dpkg-deb -c "$deb" >"$work/contents.txt"
for f in "${installed_files[@]}"; do
  grep -q " \./usr/$f\$" "$work/contents.txt" || fail "the .deb lacks /usr/$f"
done
# Stripped: the binaries in a .deb carry no debug sections.
if readelf -S "$work/unpacked/usr/bin/vantage" | grep '\.debug_info' >/dev/null; then fail "/usr/bin/vantage is not stripped"; fi

echo "== dpkg -i, apt-get -f install"
installed_deb=1
if ! flock /tmp/vantage-apt.lock dpkg -i "$deb" >"$work/dpkg.log" 2>&1; then
  flock /tmp/vantage-apt.lock env DEBIAN_FRONTEND=noninteractive apt-get -f install -y -qq --no-install-recommends \
    >>"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i + apt-get -f install"; }
fi
dpkg-query -W -f='${Status}' vantage | grep "install ok installed" >/dev/null || { cat "$work/dpkg.log"; fail "vantage is not installed"; }
for b in vantage vantage-collector vantage-testhelper; do
  if ldd "/usr/bin/$b" | grep "not found" >/dev/null; then fail "/usr/bin/$b: $(ldd "/usr/bin/$b" | grep 'not found')"; fi
done
check_programs /usr
for page in vantage vantage-collector vantage-testhelper; do
  man -w "$page" >/dev/null 2>&1 || fail "man -w $page finds no page"
done
for unit in vantage-collector.service vantage-testhelper.service; do
  out=$(systemd-analyze verify "/usr/lib/systemd/system/$unit" 2>&1) || fail "systemd-analyze verify $unit: $out"
  # Warnings about this unit (not about others on the machine) are failures too.
  if echo "$out" | grep "$unit" >/dev/null; then fail "systemd-analyze verify $unit: $out"; fi
  # Hardening: systemd's exposure score (0 = locked down, 10 = none) at most
  # 2.0 (--threshold counts tenths).
  systemd-analyze security --offline=true --threshold=20 "/usr/lib/systemd/system/$unit" >"$work/security.txt" 2>&1 ||
    fail "systemd-analyze security $unit: $(tail -1 "$work/security.txt")"
  echo "$unit: $(grep 'Overall exposure' "$work/security.txt" | sed 's/.*: //')"
done

echo "== dpkg --purge"
flock /tmp/vantage-apt.lock dpkg --purge vantage >/dev/null
installed_deb=0
for f in /usr/bin/vantage /usr/share/man/man1/vantage.1.gz /usr/lib/systemd/system/vantage-collector.service; do
  [ ! -e "$f" ] || fail "$f is still there after dpkg --purge"
done
echo "ok: $(basename "$deb") installs, runs, documents itself, and purges cleanly"
