#!/usr/bin/env bash
# Benchmark of vantage-analyze on a generated corpus, side by side with a
# plain Python script (json module) and jq computing the same daily cells on
# the same file in the same run, simdjson's own full parse of the file, and
# the aggregation run as SQL in ClickHouse (when ci/start-clickhouse.sh has
# one on 127.0.0.1:8123). Prints MB/s and measurements/s; asserts nothing
# except that the baselines agree with the tool (exit 1 if they do not).
#   analysis/bench/analyze_bench.sh BUILD_DIR [COUNT]   (COUNT default 2000)
# VANTAGE_BENCH_CORPUS=FILE reuses (or first writes) the corpus there.
set -euo pipefail
build=${1:?usage: analyze_bench.sh BUILD_DIR [COUNT]}
count=${2:-2000}
here=$(cd "$(dirname "$0")" && pwd)
analyze=$build/analysis/vantage-analyze
bench=$build/analysis/analyze_bench
work=$(mktemp -d "${TMPDIR:-/tmp}/vantage-analyze-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
corpus=${VANTAGE_BENCH_CORPUS:-$work/corpus.jsonl}

if [ ! -s "$corpus" ] || [ "$(wc -l < "$corpus")" -ne "$count" ]; then
  "$bench" gen --count "$count" --out "$corpus"
fi
bytes=$(stat -c %s "$corpus")

# row NAME CMD...: runs CMD, prints its figures by wall-clock time and by
# CPU time (user + system; the machine may be shared, so both are shown).
row() {
  local name=$1; shift
  /usr/bin/time -f "%e %U %S" -o "$work/time" "$@"
  python3 -c "import sys; e,u,s=map(float,open(sys.argv[1]).read().split()[-3:]); b=int(sys.argv[2]); n=int(sys.argv[3]); c=max(u+s,1e-3); e=max(e,1e-3)
print(f'{sys.argv[4]:<34} wall {e:7.2f} s {b/1e6/e:8.1f} MB/s {n/e:10.0f} msm/s | cpu {c:7.2f} s {b/1e6/c:8.1f} MB/s {n/c:10.0f} msm/s')" "$work/time" "$bytes" "$count" "$name"
}

echo "corpus: $count measurements, $((bytes / 1000000)) MB"
row "vantage-analyze (file)" "$analyze" -q "$corpus" --json "$work/tool.json"
row "python3 json" sh -c "python3 '$here/aggregate_json.py' '$corpus' > '$work/python.json'"
row "jq (+ sort | uniq -c)" sh -c "jq -n -r -f '$here/aggregate.jq' '$corpus' | LC_ALL=C sort | uniq -c |
  jq -R -n '[inputs | capture(\"^ *(?<n>[0-9]+) (?<k>.*)\$\") | {key: .k, value: (.n | tonumber)}] | from_entries' > '$work/jq.json'"
row "simdjson DOM parse (load+parse)" "$bench" parse "$corpus"
ch_url=clickhouse://127.0.0.1:8123/vantage_bench_$$
if curl -sf --max-time 2 http://127.0.0.1:8123/ping >/dev/null 2>&1; then
  curl -sf http://127.0.0.1:8123/ --data-binary "CREATE DATABASE IF NOT EXISTS vantage_bench_$$" >/dev/null
  curl -sf http://127.0.0.1:8123/ --data-binary "CREATE TABLE vantage_bench_$$.measurements (measurement_uid String, report_id String, test_name String, probe_cc String, probe_asn String, measurement_start_time String, body_sha512 String, body String, received Int64) ENGINE = ReplacingMergeTree ORDER BY body_sha512" >/dev/null
  # In inserts of 20000 rows (~200 MB): one insert of a large corpus runs
  # into ClickHouse's per-query memory limit, and curl would hold it all.
  "$bench" chrows "$corpus" | split -l 20000 --filter="curl -sf 'http://127.0.0.1:8123/?query=INSERT%20INTO%20vantage_bench_$$.measurements%20FORMAT%20JSONEachRow' --data-binary @- >/dev/null" -
  curl -sf http://127.0.0.1:8123/ --data-binary "OPTIMIZE TABLE vantage_bench_$$.measurements FINAL" >/dev/null || true
  row "vantage-analyze (ClickHouse SQL)" "$analyze" -q "$ch_url" --json "$work/ch.json"
  echo "  (ClickHouse's own CPU time is not in the cpu column: the server does the work)"
  curl -sf http://127.0.0.1:8123/ --data-binary "DROP DATABASE vantage_bench_$$" >/dev/null
else
  echo "ClickHouse: not running on 127.0.0.1:8123 (ci/start-clickhouse.sh), skipped"
fi

python3 - "$work" <<'PY'
import json, os, sys
w = sys.argv[1]
tool = json.load(open(os.path.join(w, "tool.json")))
cells = {}
for r in tool["daily"]:
    k = "|".join([r["day"], r["probe_cc"], r["probe_asn"], r["service"], r["feature"], r["verdict"], r["method"]])
    cells[k] = r["measurements"]
ok = True
for name in ("python.json", "jq.json"):
    other = json.load(open(os.path.join(w, name)))
    same = other == cells
    ok = ok and same
    print(f"{name[:-5]} agrees with vantage-analyze: {'yes' if same else 'NO'} ({len(other)} cells)")
if os.path.exists(os.path.join(w, "ch.json")):
    ch = json.load(open(os.path.join(w, "ch.json")))
    same = ch["daily"] == tool["daily"] and ch["networks"] == tool["networks"] and ch["change_points"] == tool["change_points"]
    ok = ok and same
    print(f"ClickHouse SQL agrees with the file path: {'yes' if same else 'NO'}")
print(f"change points found: {len(tool['change_points'])}")
sys.exit(0 if ok else 1)
PY
