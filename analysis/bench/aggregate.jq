# The benchmark's jq baseline: the same daily cells as aggregate_json.py
# (run as: jq -n -c -f aggregate.jq FILE).
reduce (inputs | select(.test_keys.x_verdict | type == "object")) as $m ({};
  ($m.test_keys.x_verdict) as $v
  | ([$m.measurement_start_time[0:10], $m.probe_cc, $m.probe_asn, $m.test_name] | join("|")) as $base
  | ([($v.features // {}) | to_entries[] | select(.value.status != null and .value.status != "")]) as $feats
  | (if ($feats | length) == 0 then "unscorable" else $v.status end) as $status
  | (if ($status == "blocked" or $status == "partially_blocked") then ($v.methods // [] | sort | join("+")) else "" end) as $method
  | .["\($base)||\($status)|\($method)"] += 1
  | reduce $feats[] as $f (.;
      (if $f.value.status == "blocked" then ($f.value.methods // [] | sort | join("+")) else "" end) as $fm
      | .["\($base)|\($f.key)|\($f.value.status)|\($fm)"] += 1))
