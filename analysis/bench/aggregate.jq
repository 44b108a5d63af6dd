# The benchmark's jq baseline: the keys of the daily cells of
# aggregate_json.py, one line per cell a measurement counts in (run as:
# jq -n -r -f aggregate.jq FILE | sort | uniq -c, then counted into JSON by
# analyze_bench.sh). Streaming: a reduce into one object is quadratic in jq
# 1.6 (every update copies the growing object) and took >14 CPU minutes on
# 100,000 measurements.
inputs
| select(.test_keys.x_verdict | type == "object")
| . as $m
| ($m.test_keys.x_verdict) as $v
| ([$m.measurement_start_time[0:10], $m.probe_cc, $m.probe_asn, $m.test_name] | join("|")) as $base
| ([($v.features // {}) | to_entries[] | select(.value.status != null and .value.status != "")]) as $feats
| (if ($feats | length) == 0 then "unscorable" else $v.status end) as $status
| (if ($status == "blocked" or $status == "partially_blocked") then ($v.methods // [] | sort | join("+")) else "" end) as $method
| "\($base)||\($status)|\($method)",
  ($feats[]
   | (if .value.status == "blocked" then (.value.methods // [] | sort | join("+")) else "" end) as $fm
   | "\($base)|\(.key)|\(.value.status)|\($fm)")
