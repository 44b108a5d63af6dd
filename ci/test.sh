#!/usr/bin/env bash
# The test command of the README and of CI: installs what the tests need,
# builds with warnings as errors, runs the unit tests, the unit tests again
# under AddressSanitizer+UndefinedBehaviorSanitizer, the fuzz targets briefly,
# the Debian package (ci/package-test.sh), and the censorship lab (which needs
# root: network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  exec sudo --preserve-env=PATH "$0" "$@"
fi

./ci/install-deps.sh --test

jobs=$(nproc)
# A compiler cache, when there is one, makes a re-run on the same machine (or
# a clone elsewhere: paths are hashed relative to the checkout) rebuild only
# what changed. Correctness never depends on it.
launcher=()
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1 CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# Unity builds (each target's sources compiled as a few files): most of a
# file's compile time here is nlohmann/json's and GoogleTest's templates,
# instantiated once per unity file instead of once per source; a cold build
# takes about 26% less CPU. The sources are kept unity-clean by this (no two
# files of a target define the same name in an anonymous namespace).
unity=(-DCMAKE_UNITY_BUILD=ON)
# Prefix /usr: the packaging step below builds the .deb from this tree. Line
# tables only (-g1: backtraces with file and line, no variables): full -g
# costs another 28% of the compile.
cmake -S . -B build/ci -DVANTAGE_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" "${unity[@]}" "${launcher[@]}" >/dev/null
cmake --build build/ci -j"$jobs"

cmake -S . -B build/asan -DVANTAGE_WERROR=ON -DVANTAGE_SANITIZE=ON -DVANTAGE_BUILD_LAB=OFF \
  -DCMAKE_BUILD_TYPE=Debug "${unity[@]}" "${launcher[@]}" >/dev/null
cmake --build build/asan -j"$jobs"

./ci/start-clickhouse.sh >/dev/null || echo "ClickHouse did not start: its store tests are skipped"

echo "== unit tests under ASan+UBSan"
(cd build/asan && ctest -L unit --output-on-failure -j"$jobs")

echo "== fuzz targets (short runs; longer: see the top CMakeLists.txt)"
CC=clang CXX=clang++ cmake -S . -B build/fuzz -DVANTAGE_FUZZ=ON -DVANTAGE_BUILD_LAB=OFF "${unity[@]}" "${launcher[@]}" >/dev/null
cmake --build build/fuzz -j"$jobs" --target fuzz_capture_decoder fuzz_capture_detectors \
  fuzz_collector_submission fuzz_spool_index
# Each fuzzer is one process on one core: two at a time.
(cd build/fuzz && ctest -L fuzz --output-on-failure -j"$jobs")

echo "== benchmarks (figures to read, not pass/fail)"
python3 ci/bench/probe_bench.py --vantage build/ci/probe/cli/vantage --tools-dir build/ci/ci/lab/tools \
  --testhelper build/ci/reports/control/vantage-testhelper --cases clean_0ms,blackholed \
  --services all --services whatsapp,signal,wechat || true
build/ci/probe/capture/capture_bench || true
build/ci/reports/collector/collector_bench || true
analysis/bench/analyze_bench.sh build/ci 2000 || true

echo "== packaging: the .deb built, installed with dpkg, run, purged (~30 s)"
./ci/package-test.sh build/ci

echo "== unit, browser and lab tests (dashboard screenshots: build/ci/analysis/dashboard/browser-test/*.png)"
# Lab scenarios bring up their own namespaces with unique prefixes; two at
# a time fit in two cores.
(cd build/ci && ctest --output-on-failure -j2 --timeout 600)
