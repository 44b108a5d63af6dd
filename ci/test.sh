#!/usr/bin/env bash
# The test command of the README and of CI: installs what the tests need,
# builds with warnings as errors, runs the unit tests, the unit tests again
# under AddressSanitizer+UndefinedBehaviorSanitizer, the fuzz targets briefly,
# and the censorship lab (which needs root: network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  exec sudo --preserve-env=PATH "$0" "$@"
fi

./ci/install-deps.sh

jobs=$(nproc)
cmake -S . -B build/ci -DVANTAGE_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/ci -j"$jobs"

cmake -S . -B build/asan -DVANTAGE_WERROR=ON -DVANTAGE_SANITIZE=ON -DVANTAGE_BUILD_LAB=OFF \
  -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build/asan -j"$jobs"

./ci/start-clickhouse.sh >/dev/null || echo "ClickHouse did not start: its store tests are skipped"

echo "== unit tests under ASan+UBSan"
(cd build/asan && ctest -L unit --output-on-failure -j"$jobs")

echo "== fuzz targets (short runs; longer: see probe/capture/CMakeLists.txt)"
CC=clang CXX=clang++ cmake -S . -B build/fuzz -DVANTAGE_FUZZ=ON -DVANTAGE_BUILD_LAB=OFF >/dev/null
cmake --build build/fuzz -j"$jobs" --target fuzz_capture_decoder fuzz_capture_detectors
(cd build/fuzz && ctest -L fuzz --output-on-failure)

echo "== benchmarks (figures to read, not pass/fail)"
python3 ci/bench/probe_bench.py --vantage build/ci/probe/cli/vantage --tools-dir build/ci/ci/lab/tools || true
build/ci/probe/capture/capture_bench || true
build/ci/reports/collector/collector_bench || true
analysis/bench/analyze_bench.sh build/ci 2000 || true

echo "== unit and lab tests"
# Lab scenarios bring up their own namespaces with unique prefixes; two at
# a time fit in two cores.
(cd build/ci && ctest --output-on-failure -j2 --timeout 600)
